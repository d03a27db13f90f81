package assume

// ResponseLimit lets the external tests size their allocation bounds.
var ResponseLimit = responseLimit
