package packs

import (
	"context"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"carnet/internal/api"
	"carnet/internal/db"
	"carnet/internal/errs"
)

func clientEmailTaken(email string) error {
	e := errs.New(errs.Conflict, "this coach already has a client with email %s", email)
	e.Field = "email" // the form shows it beside the email
	return e
}

// CreateClient adds a client to a coach's roster.
func (s *Service) CreateClient(ctx context.Context, coachID int64, in ClientInput) (Client, error) {
	c := Client{Locale: "fr"}
	if err := in.apply(&c); err != nil {
		return c, err
	}
	err := db.Q(ctx, s.DB).GetContext(ctx, &c, `INSERT INTO clients (coach_id, name, email, phone, locale, notes)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+clientCols, coachID, c.Name, c.Email, c.Phone, c.Locale, c.Notes)
	if db.IsUniqueViolation(err, "clients_coach_email_key") {
		return c, clientEmailTaken(c.Email)
	}
	return c, err
}

// Client returns one client of the coach.
func (s *Service) Client(ctx context.Context, coachID, id int64) (Client, error) {
	return getClient(ctx, db.Q(ctx, s.DB), coachID, id, false)
}

func getClient(ctx context.Context, q sqlx.QueryerContext, coachID, id int64, lock bool) (Client, error) {
	var c Client
	query := `SELECT ` + clientCols + ` FROM clients WHERE coach_id = $1 AND id = $2`
	if lock {
		query += ` FOR UPDATE`
	}
	err := sqlx.GetContext(ctx, q, &c, query, coachID, id)
	if db.NoRows(err) {
		return c, errs.NotFoundf("no client %d", id)
	}
	return c, err
}

// UpdateClient changes the fields in sets.
func (s *Service) UpdateClient(ctx context.Context, coachID, id int64, in ClientInput) (Client, error) {
	var c Client
	err := db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		var err error
		if c, err = getClient(ctx, tx, coachID, id, true); err != nil {
			return err
		}
		if err := in.apply(&c); err != nil {
			return err
		}
		err = tx.GetContext(ctx, &c, `UPDATE clients SET name = $3, email = $4, phone = $5, locale = $6,
			notes = $7, updated_at = now() WHERE coach_id = $1 AND id = $2 RETURNING `+clientCols,
			coachID, id, c.Name, c.Email, c.Phone, c.Locale, c.Notes)
		if db.IsUniqueViolation(err, "clients_coach_email_key") {
			return clientEmailTaken(c.Email)
		}
		return err
	})
	return c, err
}

// Clients lists a coach's clients, oldest first, one page at a time.
func (s *Service) Clients(ctx context.Context, coachID int64, p api.Page) (api.List[Client], error) {
	var rows []Client
	err := db.Q(ctx, s.DB).SelectContext(ctx, &rows, `SELECT `+clientCols+` FROM clients WHERE coach_id = $1 AND id > $2
		ORDER BY id LIMIT $3`, coachID, p.After, p.Limit+1)
	return api.NewList(rows, p.Limit, func(c Client) int64 { return c.ID }), err
}

// ClientNames maps ids of a coach's clients to their names (another coach's
// ids are simply absent).
func (s *Service) ClientNames(ctx context.Context, coachID int64, ids []int64) (map[int64]string, error) {
	var rows []struct {
		ID   int64  `db:"id"`
		Name string `db:"name"`
	}
	err := s.DB.SelectContext(ctx, &rows, `SELECT id, name FROM clients WHERE coach_id = $1 AND id = ANY($2)`,
		coachID, pq.Array(ids))
	names := make(map[int64]string, len(rows))
	for _, r := range rows {
		names[r.ID] = r.Name
	}
	return names, err
}
