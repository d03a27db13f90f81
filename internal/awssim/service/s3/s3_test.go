package s3

import (
	"encoding/base64"
	"encoding/binary"
	"hash/crc64"
	"testing"
)

func TestParseRange(t *testing.T) {
	tests := []struct {
		name        string
		header      string
		first, last int
		ok          bool
	}{
		{"a closed range", "bytes=2-5", 2, 5, true},
		{"an open range runs to the end", "bytes=7-", 7, 9, true},
		{"a suffix takes the last bytes", "bytes=-3", 7, 9, true},
		{"a suffix longer than the object is the whole object", "bytes=-30", 0, 9, true},
		{"an end past the object is clipped", "bytes=5-99", 5, 9, true},
		{"a start past the object is unsatisfiable", "bytes=10-12", 0, 0, false},
		{"several ranges are not supported", "bytes=0-1,3-4", 0, 0, false},
		{"another unit is refused", "items=0-1", 0, 0, false},
		{"a reversed range is refused", "bytes=5-2", 0, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			first, last, ok := parseRange(tc.header, 10)
			if ok != tc.ok || (ok && (first != tc.first || last != tc.last)) {
				t.Fatalf("parseRange(%q) = %d, %d, %v; want %d, %d, %v", tc.header, first, last, ok, tc.first, tc.last, tc.ok)
			}
		})
	}
}

func TestCRC64NVMEMatchesTheStandardCheckValue(t *testing.T) {
	// CRC-64/NVME of "123456789" is 0xAE8B14860A799888.
	got := crc64.Checksum([]byte("123456789"), crc64NVMETable)
	want := make([]byte, 8)
	binary.BigEndian.PutUint64(want, 0xAE8B14860A799888)
	if got != 0xAE8B14860A799888 || checksumOf("crc64nvme", []byte("123456789")) != base64.StdEncoding.EncodeToString(want) {
		t.Fatalf("crc64nvme = %#x", got)
	}
}
