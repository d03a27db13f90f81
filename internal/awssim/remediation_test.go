package awssim

import (
	"context"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	iamsvc "github.com/orgscan/orgscan/internal/awssim/service/iam"
)

const deleteTask = "IAMDeleteRootUserCredentials"

// rootFlagsOf reads the four root-user flags of GetAccountSummary.
func rootFlagsOf(t *testing.T, cfg aws.Config) map[string]int32 {
	t.Helper()
	out, err := iam.NewFromConfig(cfg).GetAccountSummary(context.Background(), &iam.GetAccountSummaryInput{})
	if err != nil {
		t.Fatalf("GetAccountSummary: %v", err)
	}
	flags := map[string]int32{}
	for _, k := range []string{"AccountAccessKeysPresent", "AccountSigningCertificatesPresent", "AccountPasswordPresent", "AccountMFAEnabled"} {
		flags[k] = out.SummaryMap[k]
	}
	return flags
}

// fixtureRoot is the root user iamFixture gives an account.
func fixtureRoot(t *testing.T, id string) RootUser {
	t.Helper()
	for _, a := range iamFixture().Accounts {
		if a.ID == id {
			return a.Root
		}
	}
	t.Fatalf("account %s is not in iamFixture", id)
	return RootUser{}
}

// mutations reads the simulator's count of attempts to change state, by
// IAM operation.
func mutations(srv *Server) map[string]int64 {
	got := map[string]int64{}
	for k, v := range srv.Stats().Operations {
		if v.Mutations > 0 {
			got[k] = v.Mutations
		}
	}
	return got
}

func TestDeleteRootUserCredentialsTaskPolicy(t *testing.T) {
	srv, _ := startIAMServer(t)
	ctx := context.Background()
	del := iam.NewFromConfig(rootIn(t, srv, acctRich, deleteTask))
	tests := []struct {
		name     string
		call     func() error
		resource string // "" when the policy allows the call
	}{
		{"the delete policy allows ListAccessKeys", func() error {
			_, err := del.ListAccessKeys(ctx, &iam.ListAccessKeysInput{})
			return err
		}, ""},
		{"the delete policy allows ListSigningCertificates", func() error {
			_, err := del.ListSigningCertificates(ctx, &iam.ListSigningCertificatesInput{})
			return err
		}, ""},
		{"the delete policy allows ListMFADevices", func() error {
			_, err := del.ListMFADevices(ctx, &iam.ListMFADevicesInput{})
			return err
		}, ""},
		{"the delete policy allows GetLoginProfile", func() error {
			_, err := del.GetLoginProfile(ctx, &iam.GetLoginProfileInput{})
			return err
		}, ""},
		{"the delete policy allows GetUser", func() error {
			_, err := del.GetUser(ctx, &iam.GetUserInput{})
			return err
		}, ""},
		{"the delete policy allows GetAccessKeyLastUsed of a root key", func() error {
			_, err := del.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String("AKIAROOTRICHACTIVE01")})
			return err
		}, ""},
		{"the delete policy does not list GetAccountSummary", func() error {
			_, err := del.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
			return err
		}, "*"},
		{"the delete policy denies GenerateCredentialReport", func() error {
			_, err := del.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
			return err
		}, "*"},
		{"the delete policy denies creating a root key", func() error {
			_, err := del.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{})
			return err
		}, "*"},
		{"the delete policy denies deleting an IAM user's key", func() error {
			_, err := del.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: aws.String("AKIAALICE")})
			return err
		}, "arn:aws:iam::222222222222:user/alice"},
		{"the delete policy lists DeleteVirtualMFADevice but its resource is never the root user", func() error {
			_, err := del.DeleteVirtualMFADevice(ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: aws.String(iamsvc.RootMFASerial(acctRich, "virtual"))})
			return err
		}, iamsvc.RootMFASerial(acctRich, "virtual")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { wantTaskPolicyAnswer(t, tc.call(), tc.resource) })
	}
	if got := mutations(srv); !reflect.DeepEqual(got, map[string]int64{
		"iam:CreateAccessKey": 1, "iam:DeleteAccessKey": 1, "iam:DeleteVirtualMFADevice": 1,
	}) {
		t.Errorf("mutations = %v, want the three refused attempts and no read", got)
	}
	if got := srv.RootUser(acctRich); !reflect.DeepEqual(got, fixtureRoot(t, acctRich)) {
		t.Errorf("refused calls changed the root user: %+v", got)
	}
}

func TestRootSessionDeletesRootCredentials(t *testing.T) {
	srv, _ := startIAMServer(t)
	ctx := context.Background()
	audit := iam.NewFromConfig(rootIn(t, srv, acctRich, "IAMAuditRootUserCredentials"))
	del := iam.NewFromConfig(rootIn(t, srv, acctRich, deleteTask))
	admin := roleIn(t, srv, acctRich)
	keys := []string{"AKIAROOTRICHACTIVE01", "AKIAROOTRICHINACTIV2"}
	mfa := iamsvc.RootMFASerial(acctRich, "virtual")

	t.Run("an audit session cannot delete a root key", func(t *testing.T) {
		_, err := audit.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(keys[0])})
		wantError(t, err, "AccessDenied", 403, "iam:DeleteAccessKey on resource: arn:aws:iam::222222222222:root with an explicit deny in a session policy")
		if got := rootFlagsOf(t, admin); got["AccountAccessKeysPresent"] != 1 {
			t.Fatalf("flags after a refused delete = %v", got)
		}
	})
	t.Run("a delete session deletes every root credential", func(t *testing.T) {
		for _, id := range keys {
			if _, err := del.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(id)}); err != nil {
				t.Fatalf("DeleteAccessKey %s: %v", id, err)
			}
		}
		if got := rootFlagsOf(t, admin); got["AccountAccessKeysPresent"] != 0 || got["AccountSigningCertificatesPresent"] != 1 {
			t.Fatalf("flags after deleting the keys = %v", got)
		}
		if _, err := del.DeleteSigningCertificate(ctx, &iam.DeleteSigningCertificateInput{CertificateId: aws.String("CERTRICH0000000000000000001")}); err != nil {
			t.Fatalf("DeleteSigningCertificate: %v", err)
		}
		if _, err := del.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{}); err != nil {
			t.Fatalf("DeleteLoginProfile: %v", err)
		}
		if _, err := del.DeactivateMFADevice(ctx, &iam.DeactivateMFADeviceInput{SerialNumber: aws.String(mfa)}); err != nil {
			t.Fatalf("DeactivateMFADevice: %v", err)
		}
		want := map[string]int32{"AccountAccessKeysPresent": 0, "AccountSigningCertificatesPresent": 0, "AccountPasswordPresent": 0, "AccountMFAEnabled": 0}
		if got := rootFlagsOf(t, admin); !reflect.DeepEqual(got, want) {
			t.Fatalf("flags after deleting everything = %v, want %v", got, want)
		}
	})
	t.Run("a second delete of each credential is NoSuchEntity", func(t *testing.T) {
		_, err := del.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(keys[0])})
		wantError(t, err, "NoSuchEntity", 404, keys[0])
		_, err = del.DeleteSigningCertificate(ctx, &iam.DeleteSigningCertificateInput{CertificateId: aws.String("CERTRICH0000000000000000001")})
		wantError(t, err, "NoSuchEntity", 404, "CERTRICH0000000000000000001")
		_, err = del.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{})
		wantError(t, err, "NoSuchEntity", 404, "Login Profile for User 222222222222 cannot be found.")
		_, err = del.DeactivateMFADevice(ctx, &iam.DeactivateMFADeviceInput{SerialNumber: aws.String(mfa)})
		wantError(t, err, "NoSuchEntity", 404, mfa)
	})
	t.Run("a later session sees the deletions", func(t *testing.T) {
		later := iam.NewFromConfig(rootIn(t, srv, acctRich, "IAMAuditRootUserCredentials"))
		ak, err := later.ListAccessKeys(ctx, &iam.ListAccessKeysInput{})
		if err != nil || len(ak.AccessKeyMetadata) != 0 {
			t.Fatalf("ListAccessKeys = %+v, %v", ak, err)
		}
		certs, err := later.ListSigningCertificates(ctx, &iam.ListSigningCertificatesInput{})
		if err != nil || len(certs.Certificates) != 0 {
			t.Fatalf("ListSigningCertificates = %+v, %v", certs, err)
		}
		devices, err := later.ListMFADevices(ctx, &iam.ListMFADevicesInput{})
		if err != nil || len(devices.MFADevices) != 0 {
			t.Fatalf("ListMFADevices = %+v, %v", devices, err)
		}
		_, err = later.GetLoginProfile(ctx, &iam.GetLoginProfileInput{})
		wantError(t, err, "NoSuchEntity", 404, "Login Profile")
	})
	t.Run("the credential report sees the deletions", func(t *testing.T) {
		_, rows := readReport(t, admin)
		root := rows["<root_account>"]
		for col, want := range map[string]string{
			"password_enabled": "false", "password_last_used": "N/A", "mfa_active": "false",
			"access_key_1_active": "false", "access_key_2_active": "false", "cert_1_active": "false",
		} {
			if root[col] != want {
				t.Errorf("%s = %q, want %q", col, root[col], want)
			}
		}
	})
	t.Run("the mutation counter counts every refused and done delete and nothing else", func(t *testing.T) {
		want := map[string]int64{
			// refused by the audit policy, two done, one NoSuchEntity
			"iam:DeleteAccessKey":          4,
			"iam:DeleteSigningCertificate": 2,
			"iam:DeleteLoginProfile":       2,
			"iam:DeactivateMFADevice":      2,
		}
		if got := mutations(srv); !reflect.DeepEqual(got, want) {
			t.Errorf("mutations = %v, want %v", got, want)
		}
		if total := srv.Stats().Total("iam").Mutations; total != 10 {
			t.Errorf("total iam mutations = %d", total)
		}
	})
}

func TestNonRootCallersCannotDeleteRootCredentials(t *testing.T) {
	srv, _ := startIAMServer(t)
	ctx := context.Background()
	admin := iam.NewFromConfig(mgmtConfig(srv))
	role := iam.NewFromConfig(roleIn(t, srv, acctRich))
	tests := []struct {
		name string
		call func() error
	}{
		{"an IAM user deleting its own key", func() error {
			_, err := admin.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(testMgmtKey)})
			return err
		}},
		{"an administrator role deleting a root key", func() error {
			_, err := role.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: aws.String("AKIAROOTRICHACTIVE01")})
			return err
		}},
		{"an administrator role deleting a login profile", func() error {
			_, err := role.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: aws.String("alice")})
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name+" is an action awssim does not simulate", func(t *testing.T) {
			wantError(t, tc.call(), "InvalidAction", 400, "does not simulate")
		})
	}
	t.Run("the IAM user's key still signs and no root user changed", func(t *testing.T) {
		if _, err := admin.GetUser(ctx, &iam.GetUserInput{}); err != nil {
			t.Fatalf("GetUser with the admin key: %v", err)
		}
		fx := iamFixture()
		for _, a := range fx.Accounts {
			if got := srv.RootUser(a.ID); !reflect.DeepEqual(got, a.Root) {
				t.Errorf("root user of %s = %+v, want the fixture's", a.ID, got)
			}
		}
	})
	t.Run("their attempts count as mutations", func(t *testing.T) {
		want := map[string]int64{"iam:DeleteAccessKey": 2, "iam:DeleteLoginProfile": 1}
		if got := mutations(srv); !reflect.DeepEqual(got, want) {
			t.Errorf("mutations = %v, want %v", got, want)
		}
	})
}

func TestMutatingActions(t *testing.T) {
	tests := []struct {
		action string
		want   bool
	}{
		{"DeleteAccessKey", true},
		{"DeactivateMFADevice", true},
		{"CreateLoginProfile", true},
		{"ListAccessKeys", false},
		{"GetAccountSummary", false},
		{"GenerateCredentialReport", false},
		{"SimulatePrincipalPolicy", false},
		{"DeleteEverything", false},
	}
	for _, tc := range tests {
		if got := iamsvc.Mutating(tc.action); got != tc.want {
			t.Errorf("Mutating(%s) = %v, want %v", tc.action, got, tc.want)
		}
	}
}
