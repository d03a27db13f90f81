package awssim

func (s *Server) organizationsOps() map[string]op {
	return map[string]op{}
}
