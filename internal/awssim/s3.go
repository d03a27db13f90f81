package awssim

import "net/http"

func s3OperationName(r *http.Request) string { return r.Method }

func (s *Server) serveS3(w http.ResponseWriter, c *call, reqID string) error {
	return errorf(http.StatusNotImplemented, "NotImplemented", "S3 is not simulated yet")
}
