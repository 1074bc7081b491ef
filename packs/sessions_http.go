package packs

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"carnet/internal/api"
	"carnet/internal/auth"
	"carnet/internal/errs"
)

func (s *Service) postSession(c *gin.Context) {
	var in SessionInput
	if decodeInto(c, &in) {
		sess, err := s.Schedule(c.Request.Context(), auth.CoachOf(c).ID, in)
		api.Respond(c, http.StatusCreated, sess, err)
	}
}

func (s *Service) listSessions(c *gin.Context) {
	rows, err := s.Sessions(c.Request.Context(), auth.CoachOf(c), c.Query("period"), c.Query("date"))
	api.Respond(c, http.StatusOK, gin.H{"data": rows}, err)
}

func (s *Service) getSession(c *gin.Context, coach auth.Coach, id int64) {
	sess, err := s.SessionByID(c.Request.Context(), coach.ID, id)
	api.Respond(c, http.StatusOK, sess, err)
}

func (s *Service) patchSession(c *gin.Context, coach auth.Coach, id int64) {
	var in SessionInput
	if decodeInto(c, &in) {
		sess, err := s.Reschedule(c.Request.Context(), coach.ID, id, in)
		api.Respond(c, http.StatusOK, sess, err)
	}
}

func (s *Service) cancelSession(c *gin.Context, coach auth.Coach, id int64) {
	sess, err := s.CancelSession(c.Request.Context(), coach.ID, id)
	api.Respond(c, http.StatusOK, sess, err)
}

// AttendanceResult is one participant's answer in a group's attendance.
type AttendanceResult struct {
	ClientID int64       `json:"client_id"`
	Booking  *Booking    `json:"booking,omitempty"`
	Error    *errs.Error `json:"error,omitempty"`
}

// postAttendance records several participants' outcomes, each on its own:
// one participant's refusal (no usable pack) touches nobody else.
func (s *Service) postAttendance(c *gin.Context, coach auth.Coach, id int64) {
	var in struct {
		Outcomes []struct {
			ClientID int64  `json:"client_id"`
			Outcome  string `json:"outcome"`
		} `json:"outcomes"`
	}
	if !decodeInto(c, &in) {
		return
	}
	if len(in.Outcomes) == 0 {
		api.Fail(c, errs.Field("outcomes", "name at least one participant"))
		return
	}
	sess, err := s.SessionByID(c.Request.Context(), coach.ID, id)
	if err != nil {
		api.Fail(c, err)
		return
	}
	booking := map[int64]int64{}
	for _, b := range sess.Bookings {
		booking[b.ClientID] = b.ID
	}
	results := []AttendanceResult{}
	for _, o := range in.Outcomes {
		r := AttendanceResult{ClientID: o.ClientID}
		bid, ok := booking[o.ClientID]
		if !ok {
			r.Error = errs.Field("client_id", "client %d is not in session %d", o.ClientID, id)
		} else if o.Outcome != Attended && o.Outcome != NoShow {
			r.Error = errs.Field("outcome", "must be attended or no_show")
		} else if b, err := s.RecordOutcome(c.Request.Context(), coach.ID, bid, OutcomeInput{Outcome: o.Outcome}); err != nil {
			if r.Error = asDomain(err); r.Error == nil {
				api.Fail(c, err)
				return
			}
		} else {
			r.Booking = &b
		}
		results = append(results, r)
	}
	c.JSON(http.StatusOK, gin.H{"data": results})
}

func asDomain(err error) *errs.Error {
	if errs.CodeOf(err) == errs.Internal {
		return nil
	}
	return errs.AsError(err)
}

func (s *Service) postOutcome(c *gin.Context, coach auth.Coach, id int64) {
	var in OutcomeInput
	if decodeInto(c, &in) {
		b, err := s.RecordOutcome(c.Request.Context(), coach.ID, id, in)
		api.Respond(c, http.StatusOK, b, err)
	}
}

func (s *Service) postWaiver(c *gin.Context, coach auth.Coach, id int64) {
	var in struct {
		Reason string `json:"reason"`
	}
	if decodeInto(c, &in) {
		b, err := s.Waive(c.Request.Context(), coach.ID, id, in.Reason)
		api.Respond(c, http.StatusOK, b, err)
	}
}

func (s *Service) getBalance(c *gin.Context, coach auth.Coach, id int64) {
	b, err := s.ClientBalance(c.Request.Context(), coach.ID, id)
	api.Respond(c, http.StatusOK, b, err)
}

func (s *Service) listBalances(c *gin.Context) {
	p, err := api.ParsePage(c) // validates limit; the cursor here is a position
	if err != nil && c.Query("cursor") == "" {
		api.Fail(c, err)
		return
	}
	list, err := s.Roster(c.Request.Context(), auth.CoachOf(c).ID, c.Query("sort"), c.Query("cursor"), p.Limit)
	api.Respond(c, http.StatusOK, list, err)
}

func (s *Service) getMyBalance(c *gin.Context) {
	who := auth.ClientOf(c)
	b, err := s.ClientBalance(c.Request.Context(), who.CoachID, who.ClientID)
	api.Respond(c, http.StatusOK, b, err)
}

// MyBooking is a booking as its client sees it.
type MyBooking struct {
	Booking
	StartsAt        string `db:"starts_at" json:"starts_at"`
	DurationMinutes int    `db:"duration_minutes" json:"duration_minutes"`
	Title           string `db:"title" json:"title"`
}

func (s *Service) getMyBookings(c *gin.Context) {
	who := auth.ClientOf(c)
	rows, err := s.myBookings(c.Request.Context(), who.CoachID, who.ClientID)
	api.Respond(c, http.StatusOK, gin.H{"data": rows}, err)
}

func (s *Service) getMyCancellation(c *gin.Context, who auth.ClientAuth, id int64) {
	p, err := s.PreviewCancellation(c.Request.Context(), who.CoachID, who.ClientID, id)
	api.Respond(c, http.StatusOK, p, err)
}

func (s *Service) postMyCancellation(c *gin.Context, who auth.ClientAuth, id int64) {
	if owner, err := s.bookingClient(c.Request.Context(), who.CoachID, id); err != nil || owner != who.ClientID {
		api.Fail(c, errs.NotFoundf("no booking %d", id))
		return
	}
	b, err := s.RecordOutcome(c.Request.Context(), who.CoachID, id, OutcomeInput{Outcome: Cancelled})
	api.Respond(c, http.StatusOK, b, err)
}
