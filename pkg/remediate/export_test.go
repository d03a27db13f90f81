package remediate

// Unexported parts the external tests exercise directly.
var ReadPlanLimited = readPlan
