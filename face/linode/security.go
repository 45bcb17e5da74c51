package linode

import (
	"io"
	"net/http"

	"github.com/profiled/profiled/core"
)

type questionJSON struct {
	ID       int    `json:"id"`
	Question string `json:"question"`
	// Response is null while unanswered, as the real API sends it: Cloud
	// Manager counts a question as answered when its response is not null.
	Response *string `json:"response"`
}

type answerJSON struct {
	QuestionID       int    `json:"question_id"`
	Response         string `json:"response"`
	SecurityQuestion string `json:"security_question,omitempty"`
}

func (s *server) getQuestions(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	answers, err := s.svc.SecurityQuestions(r.Context(), a)
	out := make([]questionJSON, len(answers))
	for i, ans := range answers {
		out[i] = questionJSON{ID: ans.QuestionID, Question: ans.Question}
		if ans.Response != "" {
			out[i].Response = &answers[i].Response
		}
	}
	return map[string]any{"security_questions": out}, err
}

func (s *server) postQuestions(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	var in struct {
		SecurityQuestions []answerJSON `json:"security_questions"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	answers := make([]core.Answer, len(in.SecurityQuestions))
	for i, q := range in.SecurityQuestions {
		answers[i] = core.Answer{QuestionID: q.QuestionID, Response: q.Response}
	}
	saved, err := s.svc.AnswerSecurityQuestions(r.Context(), a, answers)
	out := make([]answerJSON, len(saved))
	for i, ans := range saved {
		out[i] = answerJSON{QuestionID: ans.QuestionID, Response: ans.Response, SecurityQuestion: ans.Question}
	}
	return map[string]any{"security_questions": out}, err
}

// drain reads and discards the body of a body-less action, within the size limit.
func drain(r *http.Request) { _, _ = io.Copy(io.Discard, r.Body) }

func (s *server) tfaEnable(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	drain(r)
	sec, err := s.svc.EnableTFA(r.Context(), a)
	return map[string]any{"secret": sec.Secret, "expiry": linodeTime(sec.Expiry)}, err
}

func (s *server) tfaConfirm(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	var in struct {
		TFACode *string `json:"tfa_code"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if in.TFACode == nil {
		return nil, core.Invalid("tfa_code", "tfa_code is required")
	}
	scratch, err := s.svc.ConfirmTFA(r.Context(), a, *in.TFACode)
	return map[string]string{"scratch": scratch}, err
}

func (s *server) tfaDisable(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	drain(r)
	return empty, s.svc.DisableTFA(r.Context(), a)
}

func (s *server) postPhone(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	var in struct {
		ISOCode     *string `json:"iso_code"`
		PhoneNumber *string `json:"phone_number"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if in.ISOCode == nil {
		return nil, core.Invalid("iso_code", "iso_code is required")
	}
	if in.PhoneNumber == nil {
		return nil, core.Invalid("phone_number", "phone_number is required")
	}
	return empty, s.svc.SendPhoneCode(r.Context(), a, *in.ISOCode, *in.PhoneNumber)
}

func (s *server) verifyPhone(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	var in struct {
		OTPCode *string `json:"otp_code"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if in.OTPCode == nil {
		return nil, core.Invalid("otp_code", "otp_code is required")
	}
	return empty, s.svc.VerifyPhone(r.Context(), a, *in.OTPCode)
}

func (s *server) deletePhone(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	return empty, s.svc.DeletePhone(r.Context(), a)
}
