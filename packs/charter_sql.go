package packs

import (
	"context"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"carnet/internal/auth"
	"carnet/internal/db"
)

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
