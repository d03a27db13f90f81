package scan

// Unexported parts the external tests exercise directly.
var (
	ParseCredentialReport = parseCredentialReport
	ErrNoRootRow          = errNoRootRow
)

const PartitionGovCloud = partitionGovCloud
