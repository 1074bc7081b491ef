package db_test

import (
	"context"
	"testing"

	"carnet/internal/db"
	"carnet/internal/testdb"
)

// A migration that lands after a higher-numbered one (versions are reserved
// per change and merged in any order) is applied at the next start rather
// than refused, and the schema is then current.
func TestMigrateAppliesAVersionThatLandedLate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := testdb.New(t)
	// As if 00025 had not existed when this database was last migrated.
	if _, err := d.Exec(`DROP INDEX clients_coach_name_idx, installments_open_idx;
		DELETE FROM goose_db_version WHERE version_id = 25`); err != nil {
		t.Fatal(err)
	}
	if current, err := db.Current(ctx, d.DB); err != nil || current {
		t.Fatalf("before: current=%v err=%v, want pending", current, err)
	}
	if err := db.Migrate(ctx, d.DB); err != nil {
		t.Fatalf("migrate with a late version: %v", err)
	}
	var n int
	if err := d.Get(&n, `SELECT count(*) FROM pg_indexes WHERE indexname = 'clients_coach_name_idx'`); err != nil || n != 1 {
		t.Fatalf("00025 was not applied: %d %v", n, err)
	}
	if current, err := db.Current(ctx, d.DB); err != nil || !current {
		t.Fatalf("after: current=%v err=%v", current, err)
	}
}
