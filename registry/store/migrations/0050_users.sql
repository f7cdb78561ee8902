-- Team workspace (registry serve): accounts, a role per review, the server's signing key and
-- an audit trail of what people did in the browser (screening decisions themselves stay in
-- screening_decisions, append-only).
CREATE TABLE web_users (
    username TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,     -- argon2id, never the password
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE web_roles (
    username TEXT NOT NULL,
    review TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('owner', 'reviewer', 'viewer')),
    PRIMARY KEY (username, review)
);
CREATE TABLE web_secret (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    secret TEXT NOT NULL             -- signs session cookies; sessions survive a restart
);
CREATE SEQUENCE web_audit_id_seq START 1;
CREATE TABLE web_audit (
    audit_id BIGINT PRIMARY KEY DEFAULT nextval('web_audit_id_seq'),
    happened_at TIMESTAMP NOT NULL,
    username TEXT NOT NULL,
    review TEXT,
    action TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX web_audit_review_idx ON web_audit (review);
