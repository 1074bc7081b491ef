package auth

import (
	"context"
	"testing"
	"time"

	"carnet/internal/errs"
	"carnet/internal/testdb"
)

// A key checked once is answered from memory, yet a revocation or a change
// of settings made through this process is honoured on the next request.
func TestKeyCacheHonoursRevocationAtOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := testdb.New(t)
	coach, key, err := CreateCoach(ctx, d, NewCoach{Name: "K", Email: "k@example.com", Currency: "EUR"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := CoachByKey(ctx, d, key); err != nil {
		t.Fatal(err)
	}
	// What another process would do: the row changes behind this one's back.
	if _, err := d.Exec(`UPDATE coaches SET name = 'changed elsewhere' WHERE id = $1`, coach.ID); err != nil {
		t.Fatal(err)
	}
	if c, err := CoachByKey(ctx, d, key); err != nil || c.Name != "K" {
		t.Fatalf("within the TTL the checked key answers from memory: %+v %v", c, err)
	}
	if _, err := UpdateSettings(ctx, d, coach.ID, CoachSettings{Locale: "es", Timezone: "Europe/Madrid", Currency: "EUR"}); err != nil {
		t.Fatal(err)
	}
	if c, err := CoachByKey(ctx, d, key); err != nil || c.Locale != "es" || c.Name != "changed elsewhere" {
		t.Fatalf("settings changed here are seen at once: %+v %v", c, err)
	}
	keys, err := APIKeys(ctx, d, coach.ID)
	if err != nil || len(keys) != 1 {
		t.Fatal(keys, err)
	}
	if err := RevokeKey(ctx, d, coach.ID, keys[0].ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := CoachByKey(ctx, d, key); errs.CodeOf(err) != errs.Unauthorized {
		t.Fatalf("a key revoked here still works: %v", err)
	}
}
