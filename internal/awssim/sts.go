package awssim

import "encoding/xml"

func (s *Server) stsOps() map[string]op {
	return map[string]op{
		"GetCallerIdentity": s.getCallerIdentity,
	}
}

type getCallerIdentityResult struct {
	XMLName xml.Name `xml:"GetCallerIdentityResult"`
	Arn     string   `xml:"Arn"`
	UserID  string   `xml:"UserId"`
	Account string   `xml:"Account"`
}

func (s *Server) getCallerIdentity(c *call) (any, error) {
	return &getCallerIdentityResult{Arn: c.caller.ARN, UserID: c.caller.UserID, Account: c.caller.AccountID}, nil
}
