package scan

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// Sources of root credential details.
const (
	SourceCredentialReport = "credential-report"
	SourceRootSession      = "root-session"
)

// DetailsAPI is what reading root credential details needs from IAM.
type DetailsAPI interface {
	GenerateCredentialReport(ctx context.Context, in *iam.GenerateCredentialReportInput, optFns ...func(*iam.Options)) (*iam.GenerateCredentialReportOutput, error)
	GetCredentialReport(ctx context.Context, in *iam.GetCredentialReportInput, optFns ...func(*iam.Options)) (*iam.GetCredentialReportOutput, error)
	ListAccessKeys(ctx context.Context, in *iam.ListAccessKeysInput, optFns ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error)
	GetAccessKeyLastUsed(ctx context.Context, in *iam.GetAccessKeyLastUsedInput, optFns ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error)
	ListSigningCertificates(ctx context.Context, in *iam.ListSigningCertificatesInput, optFns ...func(*iam.Options)) (*iam.ListSigningCertificatesOutput, error)
	ListMFADevices(ctx context.Context, in *iam.ListMFADevicesInput, optFns ...func(*iam.Options)) (*iam.ListMFADevicesOutput, error)
	GetLoginProfile(ctx context.Context, in *iam.GetLoginProfileInput, optFns ...func(*iam.Options)) (*iam.GetLoginProfileOutput, error)
	GetUser(ctx context.Context, in *iam.GetUserInput, optFns ...func(*iam.Options)) (*iam.GetUserOutput, error)
	ListVirtualMFADevices(ctx context.Context, in *iam.ListVirtualMFADevicesInput, optFns ...func(*iam.Options)) (*iam.ListVirtualMFADevicesOutput, error)
}

// reportPoll bounds the wait for a credential report: AWS generates one in
// seconds; the account's timeout bounds the whole wait.
const (
	reportPollStart = 250 * time.Millisecond
	reportPollMax   = 4 * time.Second
)

// details reads root credential details: from a root session where the
// scan has one (key ids, MFA serials, exact data), else from the account's
// IAM credential report.
type details struct {
	api       DetailsAPI
	now       func() time.Time
	pollStart time.Duration
}

// NewDetailsReader returns the reader of root credential details (Config.Details).
func NewDetailsReader(api DetailsAPI, now func() time.Time) DetailsReader {
	return &details{api: api, now: now, pollStart: reportPollStart}
}

// RootCredentials implements DetailsReader.
func (d *details) RootCredentials(ctx context.Context, accountID, method string, creds aws.CredentialsProvider) (*RootCredentials, error) {
	var opts []func(*iam.Options)
	if creds != nil {
		opts = append(opts, func(o *iam.Options) { o.Credentials = creds })
	}
	if method == AccessAssumeRoot {
		rc, err := d.fromRootSession(ctx, opts)
		if err == nil {
			virtualFromDevices(rc)
		}
		return rc, err
	}
	rc, err := d.fromCredentialReport(ctx, opts)
	if err == nil {
		d.addRootVirtualMFA(ctx, accountID, rc, opts)
	}
	return rc, err
}

func (d *details) fromCredentialReport(ctx context.Context, opts []func(*iam.Options)) (*RootCredentials, error) {
	wait := d.pollStart
	for {
		gen, err := d.api.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{}, opts...)
		if err != nil {
			return nil, fmt.Errorf("generate the credential report: %w", err)
		}
		if gen.State == iamtypes.ReportStateTypeComplete {
			out, err := d.api.GetCredentialReport(ctx, &iam.GetCredentialReportInput{}, opts...)
			switch code := errorCode(err); {
			case err == nil:
				generated := d.now()
				if out.GeneratedTime != nil {
					// AWS hands out a report up to four hours old rather than
					// a new one: its real time is the evidence's time.
					generated = *out.GeneratedTime
				}
				return parseCredentialReport(out.Content, generated)
			case code == "ReportInProgress", code == "ReportExpired", code == "ReportNotPresent":
				// Generated meanwhile by someone else, or expired in
				// between: generate again.
			default:
				return nil, fmt.Errorf("get the credential report: %w", err)
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("wait for the credential report: %w", ctx.Err())
		case <-t.C:
		}
		wait = min(wait*2, reportPollMax)
	}
}

func (d *details) fromRootSession(ctx context.Context, opts []func(*iam.Options)) (*RootCredentials, error) {
	rc := &RootCredentials{
		Source:              SourceRootSession,
		AsOf:                d.now().UTC(),
		AccessKeys:          []AccessKeyDetail{},
		SigningCertificates: []CertificateDetail{},
		MFA:                 MFADetail{Devices: []MFADevice{}},
	}
	keys, err := d.api.ListAccessKeys(ctx, &iam.ListAccessKeysInput{}, opts...)
	if err != nil {
		return nil, fmt.Errorf("list root access keys: %w", err)
	}
	for _, k := range keys.AccessKeyMetadata {
		key := AccessKeyDetail{ID: aws.ToString(k.AccessKeyId), Active: k.Status == iamtypes.StatusTypeActive, CreatedAt: utc(k.CreateDate)}
		used, err := d.api.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: k.AccessKeyId}, opts...)
		if err != nil {
			return nil, fmt.Errorf("read last use of root access key %s: %w", key.ID, err)
		}
		if u := used.AccessKeyLastUsed; u != nil {
			key.LastUsedAt = utc(u.LastUsedDate)
			key.LastUsedService = reportString(aws.ToString(u.ServiceName))
			key.LastUsedRegion = reportString(aws.ToString(u.Region))
		}
		rc.AccessKeys = append(rc.AccessKeys, key)
	}
	certs, err := d.api.ListSigningCertificates(ctx, &iam.ListSigningCertificatesInput{}, opts...)
	if err != nil {
		return nil, fmt.Errorf("list root signing certificates: %w", err)
	}
	for _, c := range certs.Certificates {
		rc.SigningCertificates = append(rc.SigningCertificates, CertificateDetail{
			ID: aws.ToString(c.CertificateId), Active: c.Status == iamtypes.StatusTypeActive, UploadedAt: utc(c.UploadDate),
		})
	}
	mfa, err := d.api.ListMFADevices(ctx, &iam.ListMFADevicesInput{}, opts...)
	if err != nil {
		return nil, fmt.Errorf("list root MFA devices: %w", err)
	}
	enabled := len(mfa.MFADevices) > 0
	rc.MFA.Enabled = &enabled
	for _, dev := range mfa.MFADevices {
		serial := aws.ToString(dev.SerialNumber)
		rc.MFA.Devices = append(rc.MFA.Devices, MFADevice{Serial: serial, Type: mfaType(serial)})
	}
	present := true
	if _, err := d.api.GetLoginProfile(ctx, &iam.GetLoginProfileInput{}, opts...); err != nil {
		var nse *iamtypes.NoSuchEntityException
		if !errors.As(err, &nse) {
			return nil, fmt.Errorf("read the root login profile: %w", err)
		}
		present = false
	}
	rc.Password.Present = &present
	if present {
		user, err := d.api.GetUser(ctx, &iam.GetUserInput{}, opts...)
		if err != nil {
			return nil, fmt.Errorf("read the root user: %w", err)
		}
		if user.User != nil {
			rc.Password.LastUsedAt = utc(user.User.PasswordLastUsed)
		}
	}
	return rc, nil
}

// mfaType tells virtual from hardware devices by their serial: virtual
// devices and FIDO keys are ARNs, hardware TOTP tokens carry a serial number.
func mfaType(serial string) string {
	switch {
	case strings.Contains(serial, ":mfa/"):
		return "virtual"
	case strings.Contains(serial, ":u2f/"):
		return "hardware"
	case serial != "" && !strings.HasPrefix(serial, "arn:"):
		return "hardware"
	}
	return ""
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
