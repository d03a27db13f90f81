package awssim

import (
	"reflect"
	"strings"
	"testing"

	iamsvc "github.com/orgscan/orgscan/internal/awssim/service/iam"
)

// TestCLIConformanceRootCredentialDeletion drives, with the AWS CLI, what
// remediation does by hand: a root session scoped by
// IAMDeleteRootUserCredentials, then the deletions without --user-name.
// The steps depend on each other, so they run in order.
func TestCLIConformanceRootCredentialDeletion(t *testing.T) {
	t.Parallel()
	srv, _ := startIAMServer(t)
	admin := [3]string{testMgmtKey, testMgmtSecret, ""}
	role := cliCreds(t, roleIn(t, srv, acctOdd))
	audit := cliCreds(t, rootIn(t, srv, acctOdd, "IAMAuditRootUserCredentials"))
	var session cliCredentials
	cliJSON(t, srv, admin, &session, "sts", "assume-root", "--target-principal", acctOdd,
		"--task-policy-arn", "arn=arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials")
	root := session.creds()
	const key = "AKIAROOTODDS3NOREGN1"

	refused := []struct {
		name  string
		creds [3]string
		args  []string
		want  string
	}{
		{"an audit session's delete-access-key is AccessDenied", audit,
			[]string{"iam", "delete-access-key", "--access-key-id", key},
			"AccessDenied"},
		{"a delete session's get-account-summary is AccessDenied", root,
			[]string{"iam", "get-account-summary"},
			"AccessDenied"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			out, err := awsCLI(t, srv, tc.creds, tc.args...)
			if err == nil || !strings.Contains(out, tc.want) || !strings.Contains(out, "with an explicit deny in a session policy") {
				t.Fatalf("err %v, output %s; want %s", err, out, tc.want)
			}
		})
	}
	t.Run("delete-access-key without --user-name deletes the root key", func(t *testing.T) {
		out, err := awsCLI(t, srv, root, "iam", "delete-access-key", "--access-key-id", key)
		if err != nil || strings.TrimSpace(out) != "" {
			t.Fatalf("err %v, output %q; want success and no output", err, out)
		}
		var keys struct {
			AccessKeyMetadata []struct{ AccessKeyId string }
		}
		runCLIJSON(t, srv, root, &keys, "iam", "list-access-keys")
		if len(keys.AccessKeyMetadata) != 0 {
			t.Fatalf("keys after the delete: %+v", keys)
		}
	})
	t.Run("a second delete-access-key is NoSuchEntity", func(t *testing.T) {
		out, err := awsCLI(t, srv, root, "iam", "delete-access-key", "--access-key-id", key)
		if err == nil || !strings.Contains(out, "NoSuchEntity") || !strings.Contains(out, key) {
			t.Fatalf("err %v, output %s; want NoSuchEntity naming the key", err, out)
		}
	})
	t.Run("the other deletions succeed and get-account-summary shows no root credential", func(t *testing.T) {
		for _, args := range [][]string{
			{"iam", "delete-signing-certificate", "--certificate-id", "CERTODD00000000000000000001"},
			{"iam", "delete-login-profile"},
			{"iam", "deactivate-mfa-device", "--serial-number", iamsvc.RootMFASerial(acctOdd, "hardware")},
		} {
			runCLIJSON(t, srv, root, nil, args...)
		}
		var out struct{ SummaryMap map[string]int32 }
		runCLIJSON(t, srv, role, &out, "iam", "get-account-summary")
		for _, k := range []string{"AccountAccessKeysPresent", "AccountSigningCertificatesPresent", "AccountPasswordPresent", "AccountMFAEnabled"} {
			if v, ok := out.SummaryMap[k]; !ok || v != 0 {
				t.Errorf("%s = %d (present %v), want 0", k, v, ok)
			}
		}
	})
	t.Run("the simulator counted every delete the CLI sent", func(t *testing.T) {
		want := map[string]int64{
			"iam:DeleteAccessKey": 3, "iam:DeleteSigningCertificate": 1,
			"iam:DeleteLoginProfile": 1, "iam:DeactivateMFADevice": 1,
		}
		if got := mutations(srv); !reflect.DeepEqual(got, want) {
			t.Errorf("mutations = %v, want %v", got, want)
		}
	})
}
