package awssim

func (s *Server) iamOps() map[string]op {
	return map[string]op{}
}
