// Package remediate deletes the root credentials of an organization's
// member accounts, plan first, and keeps the evidence of what it did.
//
// It works through centralized root access: the management account (or
// IAM's delegated administrator) opens a short root session in each member
// account with sts:AssumeRoot, scoped by an AWS managed task policy. Plan
// uses IAMAuditRootUserCredentials, which can only read; Apply uses
// IAMDeleteRootUserCredentials. No role has to exist in the accounts.
//
// A run has three steps, each callable on its own:
//
//   - Plan lists every selected member account's root credentials and
//     decides, per credential of a kind the Selection names, to delete it
//     or to hold it, with the reason: an access key used within
//     Config.RecentDays (deleting it may break whatever uses it), or an MFA
//     device that still protects a password or an access key. It changes
//     nothing. Its Report (Mode "plan") carries a digest of its content.
//   - ReadPlan and CheckPlan accept a saved plan for a second person to
//     apply: the digest must match, the organization must be the caller's
//     and the plan must be young enough.
//   - Apply carries out a plan: per account it lists the credentials again
//     in a delete session and deletes only those the plan names that still
//     exist. A credential that appeared after planning is reported as
//     new_since_plan and never deleted; one already gone is already_absent.
//     A last listing records the state after, and anything planned that
//     remains marks the account failed. Its Report (Mode "apply") is the
//     evidence: one Account per account, one Action per credential, each
//     with its outcome, time and AWS's request id.
//
// Every account ends as exactly one Account in the report: an account that
// cannot be entered is a row with StatusError and AWS's code, message and
// request id, never a lost account. An interrupted apply (ctx ended) lets
// the accounts in flight finish the deletion they are making, records it,
// and marks what was not begun not_started.
//
// Failures of the whole run are *scan.Error values with a code and a
// scan.Hint naming the fix as data (the constants of this package): the
// library says what is wrong in AWS's terms and its caller words the
// advice.
package remediate
