package packs

import (
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

// Preview is the charter in would publish, checked, without publishing it:
// the coach reads exactly what a client will before it is final.
func (in CharterInput) Preview(currency string) (Charter, error) { return in.charter(currency) }
