package packs

import (
	"context"
	"fmt"
	"slices"
	"testing"
)

// Paging the roster by its cursor, in every order, lists each client once,
// in the order of the whole list: the keyset pages agree with one page.
func TestRosterPagesByCursor(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	names := []string{"Zoé", "Ana", "ana", "Bob", "Bob", "Cy", "Dan"}
	for i, n := range names {
		c := w.client(fmt.Sprintf("%s-%d", n, i))
		if i%2 == 0 {
			w.pack(c.ID, 5+i) // the others hold no live pack: no expiry, none left
		}
	}
	ctx := context.Background()
	for _, sort := range []string{"name", "sessions_remaining", "next_expiry"} {
		all, err := w.s.Roster(ctx, w.coach.ID, sort, "", 100)
		if err != nil || len(all.Data) != len(names) || all.NextCursor != "" {
			t.Fatalf("%s: one page %v, %v", sort, all, err)
		}
		var paged, whole []int64
		for _, r := range all.Data {
			whole = append(whole, r.ClientID)
		}
		cursor := ""
		for range len(names) {
			page, err := w.s.Roster(ctx, w.coach.ID, sort, cursor, 2)
			if err != nil {
				t.Fatalf("%s: %v", sort, err)
			}
			for _, r := range page.Data {
				paged = append(paged, r.ClientID)
			}
			if cursor = page.NextCursor; cursor == "" {
				break
			}
		}
		if !slices.Equal(paged, whole) {
			t.Errorf("%s: pages list clients %v, the whole list %v", sort, paged, whole)
		}
		if _, err := w.s.Roster(ctx, w.coach.ID, "name", all.NextCursor+"x", 2); err == nil {
			t.Errorf("%s: a cursor that is not ours is accepted", sort)
		}
	}
	byName, _ := w.s.Roster(ctx, w.coach.ID, "name", "", 1)
	if _, err := w.s.Roster(ctx, w.coach.ID, "sessions_remaining", byName.NextCursor, 2); err == nil {
		t.Error("a name cursor is accepted for another order")
	}
}
