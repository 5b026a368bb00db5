package contracts

// Error is the one JSON shape of every error the gateway returns: a stable
// code for programs, a message in Chinese for people and in English for
// integrators, field details where input was wrong, and the request id to
// quote when asking for help. It never carries personal data.
type Error struct {
	Code      string       `json:"code"`
	Message   string       `json:"message"`
	MessageEn string       `json:"messageEn"`
	Details   []FieldError `json:"details,omitempty"`
	RequestID string       `json:"requestId"`
}

// FieldError is one problem with one input field. Field is a JSON path such
// as applicant.idNumber; the offending value is never echoed back.
type FieldError struct {
	Field     string `json:"field"`
	Code      string `json:"code"`
	Message   string `json:"message"`
	MessageEn string `json:"messageEn"`
}
