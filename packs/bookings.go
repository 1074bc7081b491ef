package packs

import (
	"time"
)

// OutcomeInput records how a booking ended. AnnouncedAt is when a client's
// cancellation was announced (default: now); it decides whether it is late.
type OutcomeInput struct {
	Outcome     string     `json:"outcome"`
	AnnouncedAt *time.Time `json:"announced_at"`
}

// bookingRow is a booking locked with what judging it needs.
type bookingRow struct {
	Booking
	StartsAt      time.Time  `db:"starts_at"`
	CancelledAt   *time.Time `db:"session_cancelled_at"`
	Currency      string     `db:"coach_currency"`
	Bought        bool       `db:"bought"`
	NewestCharter *int64     `db:"newest_charter"`
}

// CancellationPreview tells a client, before they cancel, what it will cost.
type CancellationPreview struct {
	BookingID   int64     `json:"booking_id"`
	StartsAt    time.Time `json:"starts_at"`
	FreeUntil   time.Time `json:"free_until"`
	Late        bool      `json:"late"`
	Counted     bool      `json:"counted"`
	FeeAmount   int64     `json:"fee_amount"`
	Currency    string    `json:"currency,omitempty"`
	NoticeHours int       `json:"notice_hours"`
	Message     string    `json:"message"`
}
