-- +goose Up
-- The coach's client list, by name, one page at a time, for 10,000 clients:
-- the page of clients comes from this index, then only its lines are computed.
CREATE INDEX clients_coach_name_idx ON clients (coach_id, lower(name), id);
-- The next installment of each client: due or failed ones, by pack.
CREATE INDEX installments_open_idx ON installments (coach_id, pack_id, due_at) WHERE status IN ('due', 'failed');

-- +goose Down
DROP INDEX installments_open_idx, clients_coach_name_idx;
