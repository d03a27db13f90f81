package scan

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// Which calls tell the root user's MFA device type, per access method:
//   - A root session lists the root user's own devices (ListMFADevices, in
//     the IAMAuditRootUserCredentials task policy); "for virtual MFA
//     devices, the serial number is the device ARN" (IAM API reference,
//     MFADevice), so every device's type is known.
//   - Any other principal of the account (the caller's own account, an
//     assumed role) can list the account's virtual devices that are
//     assigned (ListVirtualMFADevices, AssignmentStatus=Assigned); one whose
//     User.Arn is the root user's ARN is the root user's. Prowler's
//     iam_root_hardware_mfa_enabled and the CIS audit for hardware root MFA
//     read it the same way. This shows the virtual devices only.
//   - The credential report has mfa_active, never the type.

// virtualMFAPages bounds the listing, so that a service that keeps answering
// IsTruncated cannot hold the account's scan forever.
const virtualMFAPages = 1000

// virtualFromDevices judges a root session's complete device list.
func virtualFromDevices(rc *RootCredentials) {
	known := true
	for _, d := range rc.MFA.Devices {
		switch d.Type {
		case "virtual":
			rc.MFA.Virtual = aws.Bool(true)
			return
		case "":
			known = false
		}
	}
	if known {
		rc.MFA.Virtual = aws.Bool(false)
	}
}

// addRootVirtualMFA lists the account's assigned virtual MFA devices and
// records those of the root user. A failed listing (the role may lack
// iam:ListVirtualMFADevices) leaves the type unknown rather than failing
// the details the credential report gave.
func (d *details) addRootVirtualMFA(ctx context.Context, accountID string, rc *RootCredentials, opts []func(*iam.Options)) {
	var found []MFADevice
	in := &iam.ListVirtualMFADevicesInput{AssignmentStatus: iamtypes.AssignmentStatusTypeAssigned}
	for range virtualMFAPages {
		out, err := d.api.ListVirtualMFADevices(ctx, in, opts...)
		if err != nil {
			return
		}
		for _, dev := range out.VirtualMFADevices {
			if dev.User != nil && isRootUserARN(aws.ToString(dev.User.Arn), accountID) {
				found = append(found, MFADevice{Serial: aws.ToString(dev.SerialNumber), Type: "virtual"})
			}
		}
		if !out.IsTruncated || aws.ToString(out.Marker) == "" {
			rc.MFA.Virtual = aws.Bool(len(found) > 0)
			for _, dev := range found {
				if !containsSerial(rc.MFA.Devices, dev.Serial) {
					rc.MFA.Devices = append(rc.MFA.Devices, dev)
				}
			}
			return
		}
		in.Marker = out.Marker
	}
}

// isRootUserARN tells whether arn is the root user of accountID, in any
// partition: arn:PARTITION:iam::ACCOUNT:root.
func isRootUserARN(arn, accountID string) bool {
	rest, ok := strings.CutPrefix(arn, "arn:")
	if !ok {
		return false
	}
	_, rest, ok = strings.Cut(rest, ":")
	return ok && accountID != "" && rest == "iam::"+accountID+":root"
}

func containsSerial(devices []MFADevice, serial string) bool {
	for _, d := range devices {
		if d.Serial == serial {
			return true
		}
	}
	return false
}
