package packs

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"carnet/internal/api"
	"carnet/internal/auth"
	"carnet/internal/db"
	"carnet/internal/errs"
)

// CharterInput is a new charter version as the coach writes it; absent
// fields keep DESIGN's defaults.
type CharterInput struct {
	NoticeHours      *int   `json:"notice_hours"`
	LateCancelAction string `json:"late_cancel_action"`
	LateCancelFee    int64  `json:"late_cancel_fee"`
	NoShowAction     string `json:"no_show_action"`
	NoShowFee        int64  `json:"no_show_fee"`
	CoachCancel      string `json:"coach_cancel"`
	GraceDays        *int   `json:"grace_days"`
	AutoRefundExcess bool   `json:"auto_refund_excess"`
	EndUnused        string `json:"end_unused"` // finish (default), refund or nothing
	// Agreement is the written points by locale: {"fr": {"included": ...}}.
	Agreement Agreement `json:"agreement"`
}

func (in CharterInput) charter(currency string) (Charter, error) {
	ch := DefaultCharter
	ch.Currency = currency
	if in.NoticeHours != nil {
		ch.NoticeHours = *in.NoticeHours
	}
	if in.GraceDays != nil {
		ch.GraceDays = *in.GraceDays
	}
	if in.LateCancelAction != "" {
		ch.LateCancelAction = in.LateCancelAction
	}
	if in.NoShowAction != "" {
		ch.NoShowAction = in.NoShowAction
	}
	if in.CoachCancel != "" {
		ch.CoachCancel = in.CoachCancel
	}
	if in.EndUnused != "" {
		ch.EndUnused = in.EndUnused
	}
	ch.LateCancelFee, ch.NoShowFee, ch.AutoRefundExcess = in.LateCancelFee, in.NoShowFee, in.AutoRefundExcess
	var err error
	if ch.Agreement, err = in.Agreement.check(); err != nil {
		return ch, err
	}
	switch {
	case ch.NoticeHours < 0 || ch.NoticeHours > 720:
		return ch, errs.Field("notice_hours", "must be from 0 to 720 hours")
	case ch.GraceDays < 0 || ch.GraceDays > 60:
		return ch, errs.Field("grace_days", "must be from 0 to 60 days")
	case !validAction(ch.LateCancelAction):
		return ch, errs.Field("late_cancel_action", "must be deduct, fee or none")
	case !validAction(ch.NoShowAction):
		return ch, errs.Field("no_show_action", "must be deduct, fee or none")
	case ch.EndUnused != EndFinish && ch.EndUnused != EndRefund && ch.EndUnused != EndNothing:
		return ch, errs.Field("end_unused", "must be finish, refund or nothing")
	case ch.CoachCancel != "nothing":
		return ch, errs.Field("coach_cancel", "must be nothing: a session the coach cancels never costs the client")
	}
	if err := feeFits(ch.LateCancelAction, ch.LateCancelFee, "late_cancel_fee"); err != nil {
		return ch, err
	}
	return ch, feeFits(ch.NoShowAction, ch.NoShowFee, "no_show_fee")
}

func validAction(a string) bool { return a == ActionDeduct || a == ActionFee || a == ActionNone }

func feeFits(action string, fee int64, field string) error {
	if action == ActionFee && (fee <= 0 || fee > 1_000_000) {
		return errs.Field(field, "a fee action needs a positive fee in minor units (at most 1000000)")
	}
	if action != ActionFee && fee != 0 {
		return errs.Field(field, "is only for the fee action")
	}
	return nil
}

// PublishCharter adds the next version; earlier versions never change.
func (s *Service) PublishCharter(ctx context.Context, coach auth.Coach, in CharterInput) (Charter, error) {
	ch, err := in.charter(coach.Currency)
	if err != nil {
		return ch, err
	}
	points := ch.Agreement
	err = db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		// Serialise publications per coach so versions stay 1, 2, 3...
		if _, err := tx.ExecContext(ctx, `SELECT id FROM coaches WHERE id = $1 FOR UPDATE`, coach.ID); err != nil {
			return err
		}
		end := ch.EndUnused
		err := tx.GetContext(ctx, &ch, `INSERT INTO charter_versions (coach_id, version, notice_hours,
			late_cancel_action, late_cancel_fee, no_show_action, no_show_fee, currency, coach_cancel,
			grace_days, auto_refund_excess)
			SELECT $1, coalesce(max(version), 0) + 1, $2, $3, $4, $5, $6, $7, $8, $9, $10
			FROM charter_versions WHERE coach_id = $1 RETURNING `+charterCols,
			coach.ID, ch.NoticeHours, ch.LateCancelAction, ch.LateCancelFee, ch.NoShowAction, ch.NoShowFee,
			ch.Currency, ch.CoachCancel, ch.GraceDays, ch.AutoRefundExcess)
		if err != nil {
			return err
		}
		ch.EndUnused, ch.Agreement = end, points
		if _, err := tx.ExecContext(ctx, `INSERT INTO charter_end_terms (charter_version_id, unused) VALUES ($1, $2)`, ch.ID, end); err != nil {
			return err
		}
		return insertPoints(ctx, tx, ch)
	})
	return ch, err
}

// endTerms fills in what each charter says of unused sessions at the end
// of a relationship (finish for versions published before it was asked).
func endTerms(ctx context.Context, q sqlx.QueryerContext, chs []Charter) error {
	ids := make([]int64, 0, len(chs))
	for i := range chs {
		chs[i].EndUnused = EndFinish
		ids = append(ids, chs[i].ID)
	}
	var rows []struct {
		ID     int64  `db:"charter_version_id"`
		Unused string `db:"unused"`
	}
	if err := sqlx.SelectContext(ctx, q, &rows, `SELECT charter_version_id, unused FROM charter_end_terms
		WHERE charter_version_id = ANY($1)`, pq.Array(ids)); err != nil {
		return err
	}
	for _, r := range rows {
		for i := range chs {
			if chs[i].ID == r.ID {
				chs[i].EndUnused = r.Unused
			}
		}
	}
	return nil
}

// CurrentCharter is the newest version, or the defaults when there is none.
func (s *Service) CurrentCharter(ctx context.Context, q sqlx.QueryerContext, coach auth.Coach) (Charter, error) {
	return currentCharter(ctx, q, coach)
}

func currentCharter(ctx context.Context, q sqlx.QueryerContext, coach auth.Coach) (Charter, error) {
	var ch Charter
	err := sqlx.GetContext(ctx, q, &ch, `SELECT `+charterCols+` FROM charter_versions WHERE coach_id = $1
		ORDER BY version DESC LIMIT 1`, coach.ID)
	if db.NoRows(err) {
		ch = DefaultCharter
		ch.Currency, ch.Agreement = coach.Currency, Agreement{}
		return ch, nil
	}
	if err != nil {
		return ch, err
	}
	one := []Charter{ch}
	if err = endTerms(ctx, q, one); err != nil {
		return one[0], err
	}
	err = loadPoints(ctx, q, &one[0])
	return one[0], err
}

// charterByID loads one version; id nil means the defaults.
func charterByID(ctx context.Context, q sqlx.QueryerContext, coachID int64, id *int64) (Charter, error) {
	if id == nil {
		return DefaultCharter, nil
	}
	var ch Charter
	err := sqlx.GetContext(ctx, q, &ch, `SELECT `+charterCols+` FROM charter_versions WHERE coach_id = $1 AND id = $2`, coachID, *id)
	return ch, err
}

func (s *Service) postCharter(c *gin.Context) {
	var in CharterInput
	if decodeInto(c, &in) {
		ch, err := s.PublishCharter(c.Request.Context(), auth.CoachOf(c), in)
		api.Respond(c, http.StatusCreated, ch, err)
	}
}

func (s *Service) getCharter(c *gin.Context) {
	ch, err := s.CurrentCharter(c.Request.Context(), db.Q(c.Request.Context(), s.DB), auth.CoachOf(c))
	api.Respond(c, http.StatusOK, ch, err)
}

func (s *Service) listCharters(c *gin.Context) {
	rows, err := s.Charters(c.Request.Context(), auth.CoachOf(c).ID)
	api.Respond(c, http.StatusOK, gin.H{"data": rows}, err)
}

// Charters lists a coach's charter versions, newest first.
func (s *Service) Charters(ctx context.Context, coachID int64) ([]Charter, error) {
	rows := []Charter{}
	err := db.Q(ctx, s.DB).SelectContext(ctx, &rows, `SELECT `+charterCols+` FROM charter_versions WHERE coach_id = $1
		ORDER BY version DESC`, coachID)
	if err == nil {
		err = endTerms(ctx, db.Q(ctx, s.DB), rows)
	}
	for i := range rows {
		if err == nil {
			err = loadPoints(ctx, db.Q(ctx, s.DB), &rows[i])
		}
	}
	return rows, err
}

// Preview is the charter in would publish, checked, without publishing it:
// the coach reads exactly what a client will before it is final.
func (in CharterInput) Preview(currency string) (Charter, error) { return in.charter(currency) }
