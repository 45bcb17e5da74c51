package core

import (
	"context"
	"strconv"
	"unicode/utf8"
)

// Question is one entry of the security question catalogue.
type Question struct {
	ID   int
	Text string
}

// Questions is the real API's catalogue, with its ids and texts.
var Questions = []Question{
	{1, "What was the name of your first pet?"},
	{2, "What is the name of your oldest sibling?"},
	{3, "What was the first concert you attended?"},
	{4, "What was the make and model of your first car?"},
	{5, "In what city or town did your parents meet?"},
	{6, "What is the name of a college you applied to but did not attend?"},
	{7, "Where did you go on your most memorable school field trip?"},
	{8, "What is the name of the teacher who impacted you the most?"},
	{9, "Which city did you visit on your first airplane flight?"},
	{10, "On what street did your best friend in high school live?"},
	{11, "What is the name of your favorite city?"},
	{12, "What is your favorite artist of all time?"},
	{13, "What is the maiden name of your grandmother?"},
	{14, "What is the name of your first roommate?"},
	{15, "In what city or town was your first job?"},
	{16, "Who is your favorite author?"},
	{17, "What is the name of the hospital you were born in?"},
	{18, "What sports team do you love to see lose?"},
	{19, "On what street is your grocery store?"},
}

// QuestionText returns the text of a catalogue question, "" if the id is unknown.
func QuestionText(id int) string {
	if id >= 1 && id <= len(Questions) {
		return Questions[id-1].Text
	}
	return ""
}

// Answer is a question with the user's response ("" if unanswered).
type Answer struct {
	QuestionID int
	Question   string
	Response   string
}

const (
	requiredAnswers = 3
	minAnswerLength = 3
	maxAnswerLength = 17
)

func answerAD(userID int64, questionID int) string {
	return "security-answer:" + strconv.FormatInt(userID, 10) + ":" + strconv.Itoa(questionID)
}

// SecurityQuestions returns every catalogue question with the actor's answer, if any.
func (s *Service) SecurityQuestions(ctx context.Context, a Actor) ([]Answer, error) {
	if err := mustRead(a); err != nil {
		return nil, err
	}
	if err := s.stepUp(ctx, a); err != nil {
		return nil, err
	}
	stored, err := s.store.SecurityAnswers(ctx, a.User.ID)
	if err != nil {
		return nil, notFound(err, "security answers")
	}
	byID := map[int][]byte{}
	for _, sa := range stored {
		byID[sa.QuestionID] = sa.AnswerEnc
	}
	out := make([]Answer, len(Questions))
	for i, q := range Questions {
		out[i] = Answer{QuestionID: q.ID, Question: q.Text}
		if enc, ok := byID[q.ID]; ok {
			plain, err := s.box.Open(enc, answerAD(a.User.ID, q.ID))
			if err != nil {
				return nil, err
			}
			out[i].Response = string(plain)
		}
	}
	return out, nil
}

// AnswerSecurityQuestions replaces the actor's answers with exactly three
// answers to three different catalogue questions. It returns the three.
func (s *Service) AnswerSecurityQuestions(ctx context.Context, a Actor, in []Answer) ([]Answer, error) {
	if err := mustWrite(a); err != nil {
		return nil, err
	}
	if err := s.stepUp(ctx, a); err != nil {
		return nil, err
	}
	if len(in) != requiredAnswers {
		return nil, Invalid("security_questions", "exactly three unique security questions must be answered")
	}
	seen := map[int]bool{}
	enc := make([]SecurityAnswer, 0, len(in))
	out := make([]Answer, 0, len(in))
	for i, ans := range in {
		field := "security_questions[" + strconv.Itoa(i) + "]"
		text := QuestionText(ans.QuestionID)
		if text == "" {
			return nil, Invalid(field+".question_id", "question_id must be one of the ids from GET /profile/security-questions (1 to %d)", len(Questions))
		}
		if seen[ans.QuestionID] {
			return nil, Invalid(field+".question_id", "each security question may be answered only once")
		}
		seen[ans.QuestionID] = true
		n := utf8.RuneCountInString(ans.Response)
		if n < minAnswerLength || n > maxAnswerLength {
			return nil, Invalid(field+".response", "response must be %d to %d characters", minAnswerLength, maxAnswerLength)
		}
		enc = append(enc, SecurityAnswer{QuestionID: ans.QuestionID, AnswerEnc: s.box.Seal([]byte(ans.Response), answerAD(a.User.ID, ans.QuestionID))})
		out = append(out, Answer{QuestionID: ans.QuestionID, Question: text, Response: ans.Response})
	}
	err := s.store.Update(ctx, func(tx Tx) error {
		if _, err := tx.LockUser(ctx, a.User.ID); err != nil {
			return notFound(err, "lock user")
		}
		return notFound(tx.SetSecurityAnswers(ctx, a.User.ID, enc), "set security answers")
	})
	return out, err
}
