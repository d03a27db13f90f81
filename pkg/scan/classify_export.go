package scan

import "context"

// ClassifyError names a failure inside an account the way a scan row does:
// a code (an AWS error code or a Code constant, never read from AWS's
// message) and the message for people, without the SDK's plumbing. ctx is
// the account's context, whose deadline tells a timeout from a refusal.
// It is the scan's classification for programs that act on accounts
// otherwise, so that their rows and the scan's agree.
func ClassifyError(ctx context.Context, err error) (code, message string) {
	return classify(err, ctx), describe(err)
}
