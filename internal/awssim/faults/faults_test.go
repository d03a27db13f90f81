package faults

import (
	"net/url"
	"testing"

	"github.com/orgscan/orgscan/internal/awssim/auth"
	"github.com/orgscan/orgscan/internal/awssim/op"
	"github.com/orgscan/orgscan/internal/awssim/rng"
)

func call(service, operation, account string) *op.Call {
	c := &op.Call{Service: service, Op: operation, Form: url.Values{}, Caller: &auth.Principal{AccountID: "111111111111"}}
	if operation == "AssumeRoot" {
		c.Form.Set("TargetPrincipal", account)
	} else {
		c.Caller = &auth.Principal{AccountID: account}
	}
	return c
}

func TestRulesHitTheRequestsTheyMatch(t *testing.T) {
	inj := New(Config{Rules: []Rule{
		{Service: "sts", Op: "AssumeRoot", Account: "222222222222", Kind: Error, Status: 403, Code: "AccessDenied", Message: "no"},
		{Service: "iam", Op: "DeleteAccessKey", Kind: Error, Times: 2},
		{Service: "iam", Op: "DeleteSigningCertificate", Account: "333333333333", Kind: LoseAnswer, Times: 1},
		{Service: "iam", Op: "DeleteLoginProfile", Kind: Drop, Times: 1},
	}}, rng.New(1), nil, nil)

	tests := []struct {
		name     string
		call     *op.Call
		want     Kind
		code     string
		status   int
		loseWant bool
	}{
		{"a refusal aimed at one account's AssumeRoot hits it", call("sts", "AssumeRoot", "222222222222"), Error, "AccessDenied", 403, false},
		{"and hits it again, as it has no limit", call("sts", "AssumeRoot", "222222222222"), Error, "AccessDenied", 403, false},
		{"but not another account's", call("sts", "AssumeRoot", "444444444444"), None, "", 0, false},
		{"a 5xx rule without a code answers as the service does", call("iam", "DeleteAccessKey", "222222222222"), Error, "ServiceFailure", 500, false},
		{"a rule hits as many requests as it is told", call("iam", "DeleteAccessKey", "555555555555"), Error, "ServiceFailure", 500, false},
		{"and then none", call("iam", "DeleteAccessKey", "222222222222"), None, "", 0, false},
		{"a lost answer is no fault before the operation", call("iam", "DeleteSigningCertificate", "333333333333"), None, "", 0, true},
		{"a lost answer hits once when told once", call("iam", "DeleteSigningCertificate", "333333333333"), None, "", 0, false},
		{"a drop rule drops", call("iam", "DeleteLoginProfile", "333333333333"), Drop, "", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			kind, answer := inj.Rule(tc.call)
			if kind != tc.want {
				t.Fatalf("kind %v, want %v", kind, tc.want)
			}
			if tc.want == Error && (answer == nil || answer.Code != tc.code || answer.Status != tc.status) {
				t.Fatalf("answer %+v, want %s %d", answer, tc.code, tc.status)
			}
			if got := inj.LoseAnswer(tc.call); got != tc.loseWant {
				t.Fatalf("LoseAnswer = %v, want %v", got, tc.loseWant)
			}
		})
	}
}

func TestNoRulesNoFaults(t *testing.T) {
	inj := New(Config{}, rng.New(1), nil, nil)
	if kind, _ := inj.Rule(call("iam", "DeleteAccessKey", "222222222222")); kind != None {
		t.Fatalf("kind %v", kind)
	}
	if inj.LoseAnswer(call("iam", "DeleteAccessKey", "222222222222")) {
		t.Fatal("an answer was lost without a rule")
	}
}
