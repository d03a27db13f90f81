package remediate

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/orgscan/orgscan/pkg/scan"
)

type (
	iamOptions          = iam.Options
	credentialsProvider = aws.CredentialsProvider
)

// iamAPI is what remediation needs from IAM: the reads of the listing and
// the four deletions IAMDeleteRootUserCredentials allows. In a root session
// each acts on the root user when no user name is given (botocore iam
// 2010-05-08 service-2.json: UserName is optional in all four; the root
// user must use an AssumeRoot session to omit it).
type iamAPI interface {
	scan.DetailsAPI
	DeleteAccessKey(ctx context.Context, in *iam.DeleteAccessKeyInput, optFns ...func(*iam.Options)) (*iam.DeleteAccessKeyOutput, error)
	DeleteSigningCertificate(ctx context.Context, in *iam.DeleteSigningCertificateInput, optFns ...func(*iam.Options)) (*iam.DeleteSigningCertificateOutput, error)
	DeleteLoginProfile(ctx context.Context, in *iam.DeleteLoginProfileInput, optFns ...func(*iam.Options)) (*iam.DeleteLoginProfileOutput, error)
	DeactivateMFADevice(ctx context.Context, in *iam.DeactivateMFADeviceInput, optFns ...func(*iam.Options)) (*iam.DeactivateMFADeviceOutput, error)
}

// requestID is AWS's id of the request that failed, when AWS answered.
func requestID(err error) string {
	var re interface{ ServiceRequestID() string }
	if errors.As(err, &re) {
		return re.ServiceRequestID()
	}
	return ""
}

// isNoSuchEntity tells IAM's answer for a credential that does not exist
// (NoSuchEntity, 404: botocore iam service-2.json, NoSuchEntityException,
// listed for all four deletions).
func isNoSuchEntity(err error) bool {
	var nse *iamtypes.NoSuchEntityException
	return errors.As(err, &nse)
}

// attempts counts the attempts the SDK makes for one call, and keeps the
// first one's failure. It sits in the Finalize step after the retry
// middleware, which runs what follows it once per attempt; the attempts of
// one call are made one after the other, so it needs no lock.
type attempts struct {
	n     int
	first error
}

func (a *attempts) register(stack *middleware.Stack) error {
	return stack.Finalize.Insert(middleware.FinalizeMiddlewareFunc("orgscanCountAttempts",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			a.n++
			out, md, err := next.HandleFinalize(ctx, in)
			if err != nil && a.first == nil {
				a.first = err
			}
			return out, md, err
		}), "Retry", middleware.After)
}

// deletion is the result of one delete call.
type deletion struct {
	requestID string
	attempts  attempts
	err       error
}

// deleteCredential deletes one root credential of the session's root user.
func deleteCredential(ctx context.Context, api iamAPI, kind, id string, opts []func(*iam.Options)) deletion {
	var d deletion
	opts = append(opts[:len(opts):len(opts)], func(o *iam.Options) {
		o.APIOptions = append(o.APIOptions, d.attempts.register)
	})
	var md middleware.Metadata
	switch kind {
	case KindAccessKey:
		var out *iam.DeleteAccessKeyOutput
		if out, d.err = api.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(id)}, opts...); d.err == nil {
			md = out.ResultMetadata
		}
	case KindSigningCertificate:
		var out *iam.DeleteSigningCertificateOutput
		if out, d.err = api.DeleteSigningCertificate(ctx, &iam.DeleteSigningCertificateInput{CertificateId: aws.String(id)}, opts...); d.err == nil {
			md = out.ResultMetadata
		}
	case KindPassword:
		var out *iam.DeleteLoginProfileOutput
		if out, d.err = api.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{}, opts...); d.err == nil {
			md = out.ResultMetadata
		}
	case KindMFADevice:
		var out *iam.DeactivateMFADeviceOutput
		if out, d.err = api.DeactivateMFADevice(ctx, &iam.DeactivateMFADeviceInput{SerialNumber: aws.String(id)}, opts...); d.err == nil {
			md = out.ResultMetadata
		}
	}
	if d.err != nil {
		d.requestID = requestID(d.err)
	} else {
		d.requestID, _ = awsmiddleware.GetRequestIDMetadata(md)
	}
	return d
}

// present is what a delete session finds of the root user's credentials,
// of the kinds the apply lists (see listPresent); a kind not listed is
// left nil.
type present struct {
	keys     []iamtypes.AccessKeyMetadata
	certs    []iamtypes.SigningCertificate
	mfa      []iamtypes.MFADevice
	password *bool
}

func (p *present) keyIDs() []string {
	return ids(p.keys, func(k iamtypes.AccessKeyMetadata) *string { return k.AccessKeyId })
}

func (p *present) certIDs() []string {
	return ids(p.certs, func(c iamtypes.SigningCertificate) *string { return c.CertificateId })
}

func (p *present) mfaSerials() []string {
	return ids(p.mfa, func(d iamtypes.MFADevice) *string { return d.SerialNumber })
}

func (p *present) hasPassword() bool { return p.password != nil && *p.password }

func ids[T any](items []T, id func(T) *string) []string {
	out := make([]string, 0, len(items))
	for _, x := range items {
		out = append(out, aws.ToString(id(x)))
	}
	return out
}

func (p *present) has(kind, id string) bool {
	switch kind {
	case KindAccessKey:
		return slices.Contains(p.keyIDs(), id)
	case KindSigningCertificate:
		return slices.Contains(p.certIDs(), id)
	case KindPassword:
		return p.hasPassword()
	case KindMFADevice:
		return slices.Contains(p.mfaSerials(), id)
	}
	return false
}

// remove forgets a credential the apply deleted.
func (p *present) remove(kind, id string) {
	switch kind {
	case KindAccessKey:
		p.keys = slices.DeleteFunc(p.keys, func(k iamtypes.AccessKeyMetadata) bool { return aws.ToString(k.AccessKeyId) == id })
	case KindSigningCertificate:
		p.certs = slices.DeleteFunc(p.certs, func(c iamtypes.SigningCertificate) bool { return aws.ToString(c.CertificateId) == id })
	case KindPassword:
		p.password = aws.Bool(false)
	case KindMFADevice:
		p.mfa = slices.DeleteFunc(p.mfa, func(d iamtypes.MFADevice) bool { return aws.ToString(d.SerialNumber) == id })
	}
}

// maxListPages bounds a listing, so that a service that keeps answering
// IsTruncated cannot hold an account forever.
const maxListPages = 100

// listPresent lists, in the delete session, the credentials of the kinds
// the plan selects, one call after the other (see workers). Access keys
// and the password are listed whenever MFA devices are selected, since MFA
// is deleted only when neither remains.
func listPresent(ctx context.Context, api iamAPI, sel Selection, opts []func(*iam.Options)) (*present, error) {
	p := &present{}
	var err error
	if sel.AccessKeys || sel.MFA {
		p.keys, err = pages(func(marker *string) ([]iamtypes.AccessKeyMetadata, *string, error) {
			out, err := api.ListAccessKeys(ctx, &iam.ListAccessKeysInput{Marker: marker}, opts...)
			if err != nil {
				return nil, nil, fmt.Errorf("list root access keys: %w", err)
			}
			return out.AccessKeyMetadata, next(out.IsTruncated, out.Marker), nil
		})
		if err != nil {
			return nil, err
		}
	}
	if sel.SigningCertificates {
		p.certs, err = pages(func(marker *string) ([]iamtypes.SigningCertificate, *string, error) {
			out, err := api.ListSigningCertificates(ctx, &iam.ListSigningCertificatesInput{Marker: marker}, opts...)
			if err != nil {
				return nil, nil, fmt.Errorf("list root signing certificates: %w", err)
			}
			return out.Certificates, next(out.IsTruncated, out.Marker), nil
		})
		if err != nil {
			return nil, err
		}
	}
	if sel.Password || sel.MFA {
		_, err := api.GetLoginProfile(ctx, &iam.GetLoginProfileInput{}, opts...)
		switch {
		case err == nil:
			p.password = aws.Bool(true)
		case isNoSuchEntity(err):
			p.password = aws.Bool(false)
		default:
			return nil, fmt.Errorf("read the root login profile: %w", err)
		}
	}
	if sel.MFA {
		p.mfa, err = pages(func(marker *string) ([]iamtypes.MFADevice, *string, error) {
			out, err := api.ListMFADevices(ctx, &iam.ListMFADevicesInput{Marker: marker}, opts...)
			if err != nil {
				return nil, nil, fmt.Errorf("list root MFA devices: %w", err)
			}
			return out.MFADevices, next(out.IsTruncated, out.Marker), nil
		})
		if err != nil {
			return nil, err
		}
	}
	return p, nil
}

// next is a listing's marker for its next page, or nil after the last.
func next(truncated bool, marker *string) *string {
	if !truncated || aws.ToString(marker) == "" {
		return nil
	}
	return marker
}

// pages pages through a listing, at most maxListPages pages. The list is
// never nil: a kind listed and found empty is not a kind not listed.
func pages[T any](page func(marker *string) ([]T, *string, error)) ([]T, error) {
	items := []T{}
	var marker *string
	for range maxListPages {
		got, more, err := page(marker)
		if err != nil {
			return nil, err
		}
		items = append(items, got...)
		if more == nil {
			return items, nil
		}
		marker = more
	}
	return nil, fmt.Errorf("the listing goes on past %d pages", maxListPages)
}
