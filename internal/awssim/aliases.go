package awssim

import (
	"io"

	"github.com/orgscan/orgscan/internal/awssim/fixture"
	"github.com/orgscan/orgscan/internal/awssim/service/s3"
	"github.com/orgscan/orgscan/internal/awssim/stats"
)

// The fixture format is defined in package fixture; these names let the
// simulator's users (tests, the demo, the benchmarks, cmd/awssim) write
// worlds and read results through one import.
type (
	Fixture                 = fixture.Fixture
	Organization            = fixture.Organization
	Features                = fixture.Features
	OU                      = fixture.OU
	Account                 = fixture.Account
	AccountFaults           = fixture.AccountFaults
	AlternateContacts       = fixture.AlternateContacts
	Contact                 = fixture.Contact
	CredentialReportFixture = fixture.CredentialReportFixture
	RootUser                = fixture.RootUser
	AccessKey               = fixture.AccessKey
	SigningCertificate      = fixture.SigningCertificate
	Password                = fixture.Password
	Role                    = fixture.Role
	StaticCredential        = fixture.StaticCredential
	DenyStatement           = fixture.DenyStatement
	Bucket                  = fixture.Bucket
	GenerateOptions         = fixture.GenerateOptions

	Stats   = stats.Stats
	OpStats = stats.OpStats

	ObjectInfo = s3.ObjectInfo
	S3Call     = s3.Record
)

// Service principals and feature sets the simulator gives a meaning to.
const (
	IAMServicePrincipal           = fixture.IAMServicePrincipal
	AccountServicePrincipal       = fixture.AccountServicePrincipal
	FeatureSetAll                 = fixture.FeatureSetAll
	FeatureSetConsolidatedBilling = fixture.FeatureSetConsolidatedBilling
)

// Well-known values of generated organizations (see package fixture).
const (
	DefaultAccessKeyID         = fixture.DefaultAccessKeyID
	DefaultSecretAccessKey     = fixture.DefaultSecretAccessKey
	DefaultManagementAccountID = fixture.DefaultManagementAccountID
	DefaultAdminUserName       = fixture.DefaultAdminUserName
	DefaultRoleName            = fixture.DefaultRoleName
	DefaultReportBucket        = fixture.DefaultReportBucket
)

// LoadFixture reads and validates a fixture file.
func LoadFixture(path string) (*Fixture, error) { return fixture.Load(path) }

// ReadFixture decodes and validates a fixture. Unknown fields are errors.
func ReadFixture(r io.Reader) (*Fixture, error) { return fixture.Read(r) }

// Generate builds a seeded organization: the same options give the same
// fixture.
func Generate(o GenerateOptions) *Fixture { return fixture.Generate(o) }
