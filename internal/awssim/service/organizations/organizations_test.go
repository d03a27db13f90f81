package organizations

import "testing"

func TestPageTokensAreBoundToTheirList(t *testing.T) {
	tok := encodePageToken("ListAccountsForParent", "ou-ab12-aaaaaaaa", 20)
	tests := []struct {
		name, op, key, token string
		wantOK               bool
		wantOffset           int
	}{
		{"a token decodes for the list it was made for", "ListAccountsForParent", "ou-ab12-aaaaaaaa", tok, true, 20},
		{"a token does not decode for another parent", "ListAccountsForParent", "ou-ab12-bbbbbbbb", tok, false, 0},
		{"a token does not decode for another operation", "ListOrganizationalUnitsForParent", "ou-ab12-aaaaaaaa", tok, false, 0},
		{"a truncated token does not decode", "ListAccountsForParent", "ou-ab12-aaaaaaaa", tok[:len(tok)-2], false, 0},
		{"a token that is not base64 does not decode", "ListAccountsForParent", "ou-ab12-aaaaaaaa", "!!!", false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			off, ok := decodePageToken(tc.token, tc.op, tc.key)
			if ok != tc.wantOK || off != tc.wantOffset {
				t.Fatalf("decode = %d, %v; want %d, %v", off, ok, tc.wantOffset, tc.wantOK)
			}
		})
	}
}
