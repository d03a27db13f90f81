package cli

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/orgscan/orgscan/internal/sink"
	"github.com/orgscan/orgscan/pkg/output"
)

// target is one place a report goes: stdout, a local file or S3.
type target struct {
	raw    string
	format string
	stdout bool
	path   string      // local file
	s3     *s3Location // S3 object or prefix
}

// s3Location is a parsed s3:// URI.
type s3Location struct {
	Bucket string
	// Key is the exact key, or the prefix when Prefix is set.
	Key    string
	Prefix bool
}

func (l s3Location) String() string { return "s3://" + l.Bucket + "/" + l.Key }

var bucketPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// parseS3URI reads s3://bucket/key or s3://bucket/prefix/.
func parseS3URI(uri string) (*s3Location, error) {
	rest, ok := strings.CutPrefix(uri, "s3://")
	if !ok {
		return nil, fmt.Errorf("%q is not an s3:// URI: use s3://bucket/key or s3://bucket/prefix/", uri)
	}
	bucket, key, _ := strings.Cut(rest, "/")
	if bucket == "" {
		return nil, fmt.Errorf("%q has an empty bucket name: use s3://bucket/key", uri)
	}
	if !bucketPattern.MatchString(bucket) || strings.Contains(bucket, "..") {
		return nil, fmt.Errorf("%q: bucket %q is not a valid S3 bucket name (3-63 lowercase letters, digits, dots and hyphens)", uri, bucket)
	}
	if !strings.Contains(rest, "/") {
		return nil, fmt.Errorf("%q has no key: add a key (s3://%s/report.json) or a prefix ending in / (s3://%s/orgscan/)", uri, bucket, bucket)
	}
	if len(key) > 900 {
		return nil, fmt.Errorf("%q: the key is longer than 900 bytes, leaving no room for the partition path", uri)
	}
	for _, r := range key {
		if r < 0x20 || r == 0x7f {
			return nil, fmt.Errorf("%q: the key holds a control character", uri)
		}
	}
	if strings.Contains(key, "//") {
		return nil, fmt.Errorf("%q: the key has an empty path segment (//)", uri)
	}
	return &s3Location{Bucket: bucket, Key: key, Prefix: key == "" || strings.HasSuffix(key, "/")}, nil
}

// parseTargets resolves each --out into a target with its format. Without
// --out the report goes to stdout in --format.
func parseTargets(outs []string, format string, formatSet bool) ([]target, error) {
	if !isFormat(format) {
		return nil, usagef("--format %q is not known: use one of %s", format, strings.Join(output.Formats(), ", "))
	}
	if len(outs) == 0 {
		return []target{{raw: "-", format: format, stdout: true}}, nil
	}
	var targets []target
	seen := map[string]bool{}
	for _, raw := range outs {
		if seen[raw] {
			return nil, usagef("--out %s is given twice: give each target once", raw)
		}
		seen[raw] = true
		t := target{raw: raw, format: format}
		switch {
		case raw == "-":
			t.stdout = true
		case strings.HasPrefix(raw, "s3://") || strings.HasPrefix(strings.ToLower(raw), "s3:"):
			loc, err := parseS3URI(raw)
			if err != nil {
				return nil, usagef("--out: %v", err)
			}
			t.s3 = loc
			if loc.Prefix {
				// A prefix names no file: the format is --format's, and a
				// scheduled export without one wants the JSON document.
				if !formatSet {
					t.format = output.FormatJSON
				}
			} else if f, ok := output.FormatFromExtension(loc.Key); ok {
				t.format = f
			} else if !formatSet {
				return nil, usagef("--out %s: cannot tell the format from the key's extension: use .json, .ndjson, .jsonl, .csv, .txt, .html, .ocsf.json or .ocsf.ndjson, or give --format", raw)
			}
		default:
			t.path = raw
			if err := sink.CheckWritable(raw); err != nil {
				return nil, usagef("--out %v", err)
			}
			if f, ok := output.FormatFromExtension(raw); ok {
				t.format = f
			} else if !formatSet {
				return nil, usagef("--out %s: cannot tell the format from the extension: use .json, .ndjson, .jsonl, .csv, .txt, .html, .ocsf.json or .ocsf.ndjson, or give --format", raw)
			}
		}
		targets = append(targets, t)
	}
	stdouts := 0
	for _, t := range targets {
		if t.stdout {
			stdouts++
		}
	}
	if stdouts > 1 {
		return nil, usagef("--out - is given twice: stdout takes one report")
	}
	return targets, nil
}

func isFormat(f string) bool { return slices.Contains(output.Formats(), f) }
