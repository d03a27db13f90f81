package remediate

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// prefetch lists a root user's credentials for the scan's details reader
// with its independent calls made at once. The reader asks one call after
// the other (keys, each key's last use, certificates, MFA devices, login
// profile, user): six round trips per account where two suffice, and an
// apply at STS's rate would need three times the concurrency. prefetch
// starts every call the reader will make as soon as what it depends on is
// known (a key's last use once the keys are listed, the user once a
// password is found) and hands each answer over when the reader asks. A
// call it did not foresee (another input, a next page) goes to IAM as
// asked, so the listing is the reader's whatever it asks.
type prefetch struct {
	iamAPI
	keys  *future[*iam.ListAccessKeysOutput]
	certs *future[*iam.ListSigningCertificatesOutput]
	mfa   *future[*iam.ListMFADevicesOutput]
	login *future[*iam.GetLoginProfileOutput]
	user  *future[*iam.GetUserOutput]
	// lastUsed is each key's last-use call, by key id; written before
	// usedReady is closed, and read only after.
	lastUsed  map[string]*future[*iam.GetAccessKeyLastUsedOutput]
	usedReady chan struct{}
}

// future is the answer of a call under way.
type future[T any] struct {
	done chan struct{}
	out  T
	err  error
}

func start[T any](fn func() (T, error)) *future[T] {
	f := &future[T]{done: make(chan struct{})}
	go func() {
		defer close(f.done)
		f.out, f.err = fn()
	}()
	return f
}

func (f *future[T]) wait(ctx context.Context) (T, error) {
	select {
	case <-f.done:
		return f.out, f.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

// newPrefetch starts the listing under ctx, with the account's options.
// Every call it starts ends with ctx.
func newPrefetch(ctx context.Context, api iamAPI, opts []func(*iam.Options)) *prefetch {
	p := &prefetch{iamAPI: api, usedReady: make(chan struct{}), lastUsed: map[string]*future[*iam.GetAccessKeyLastUsedOutput]{}}
	p.keys = start(func() (*iam.ListAccessKeysOutput, error) {
		out, err := api.ListAccessKeys(ctx, &iam.ListAccessKeysInput{}, opts...)
		if err == nil {
			for _, k := range out.AccessKeyMetadata {
				id := aws.ToString(k.AccessKeyId)
				p.lastUsed[id] = start(func() (*iam.GetAccessKeyLastUsedOutput, error) {
					return api.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(id)}, opts...)
				})
			}
		}
		close(p.usedReady)
		return out, err
	})
	p.certs = start(func() (*iam.ListSigningCertificatesOutput, error) {
		return api.ListSigningCertificates(ctx, &iam.ListSigningCertificatesInput{}, opts...)
	})
	p.mfa = start(func() (*iam.ListMFADevicesOutput, error) {
		return api.ListMFADevices(ctx, &iam.ListMFADevicesInput{}, opts...)
	})
	p.login = start(func() (*iam.GetLoginProfileOutput, error) {
		out, err := api.GetLoginProfile(ctx, &iam.GetLoginProfileInput{}, opts...)
		if err == nil {
			// The reader reads the user only for a password's last use.
			p.user = start(func() (*iam.GetUserOutput, error) { return api.GetUser(ctx, &iam.GetUserInput{}, opts...) })
		}
		return out, err
	})
	return p
}

// foreseen tells whether a call's input is the one prefetch made: the
// first page, of the session's own user.
func foreseen(marker, user *string) bool { return marker == nil && user == nil }

func (p *prefetch) ListAccessKeys(ctx context.Context, in *iam.ListAccessKeysInput, optFns ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error) {
	if !foreseen(in.Marker, in.UserName) || in.MaxItems != nil {
		return p.iamAPI.ListAccessKeys(ctx, in, optFns...)
	}
	return p.keys.wait(ctx)
}

func (p *prefetch) GetAccessKeyLastUsed(ctx context.Context, in *iam.GetAccessKeyLastUsedInput, optFns ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error) {
	select {
	case <-p.usedReady:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if f, ok := p.lastUsed[aws.ToString(in.AccessKeyId)]; ok {
		return f.wait(ctx)
	}
	return p.iamAPI.GetAccessKeyLastUsed(ctx, in, optFns...)
}

func (p *prefetch) ListSigningCertificates(ctx context.Context, in *iam.ListSigningCertificatesInput, optFns ...func(*iam.Options)) (*iam.ListSigningCertificatesOutput, error) {
	if !foreseen(in.Marker, in.UserName) || in.MaxItems != nil {
		return p.iamAPI.ListSigningCertificates(ctx, in, optFns...)
	}
	return p.certs.wait(ctx)
}

func (p *prefetch) ListMFADevices(ctx context.Context, in *iam.ListMFADevicesInput, optFns ...func(*iam.Options)) (*iam.ListMFADevicesOutput, error) {
	if !foreseen(in.Marker, in.UserName) || in.MaxItems != nil {
		return p.iamAPI.ListMFADevices(ctx, in, optFns...)
	}
	return p.mfa.wait(ctx)
}

func (p *prefetch) GetLoginProfile(ctx context.Context, in *iam.GetLoginProfileInput, optFns ...func(*iam.Options)) (*iam.GetLoginProfileOutput, error) {
	if in.UserName != nil {
		return p.iamAPI.GetLoginProfile(ctx, in, optFns...)
	}
	return p.login.wait(ctx)
}

func (p *prefetch) GetUser(ctx context.Context, in *iam.GetUserInput, optFns ...func(*iam.Options)) (*iam.GetUserOutput, error) {
	if in.UserName != nil {
		return p.iamAPI.GetUser(ctx, in, optFns...)
	}
	if _, err := p.login.wait(ctx); err != nil || p.user == nil {
		// p.user is set before login's answer is handed over.
		// Asked without a password found: nothing was started for it.
		return p.iamAPI.GetUser(ctx, in, optFns...)
	}
	return p.user.wait(ctx)
}
