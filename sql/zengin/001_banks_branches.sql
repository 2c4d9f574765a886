-- zengin/001_banks_branches.sql
-- Seed 003 PostgreSQL連携 / 対象テーブル / 銀行マスタテーブル: banks, branches.
-- (The DynamoDB table zengin-data-diff-{env} and the S3 bucket of the same seed
-- are not PostgreSQL objects.)
-- Changes from the seed (Z2, Z3):
--  * CHECK constraints on the code formats: bank code = exactly 4 digits,
--    branch code = exactly 3 digits (a char(n) value shorter than n is
--    blank-padded, so e.g. '001' for a bank code is rejected);
--  * created_at / updated_at are TIMESTAMPTZ instead of TIMESTAMP: the seed's
--    executor writes datetime.utcnow() while CURRENT_TIMESTAMP defaults follow
--    the session time zone, so a naive TIMESTAMP would mix zones.
-- Kana fields are validated by the console (they may contain full-width or
-- half-width katakana, Latin letters and punctuation), not by a CHECK.
-- The foreign key branches -> banks has no ON DELETE action, as in the seed:
-- deletions must remove branches before their bank.

CREATE TABLE public.banks (
    bank_code  CHAR(4)      PRIMARY KEY,
    bank_name  VARCHAR(100) NOT NULL,
    bank_kana  VARCHAR(100),
    created_at TIMESTAMPTZ  DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMPTZ  DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT banks_bank_code_format CHECK (bank_code ~ '^[0-9]{4}$')
);

CREATE TABLE public.branches (
    bank_code   CHAR(4)      NOT NULL,
    branch_code CHAR(3)      NOT NULL,
    branch_name VARCHAR(100) NOT NULL,
    branch_kana VARCHAR(100),
    created_at  TIMESTAMPTZ  DEFAULT CURRENT_TIMESTAMP,
    updated_at  TIMESTAMPTZ  DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (bank_code, branch_code),
    FOREIGN KEY (bank_code) REFERENCES public.banks (bank_code),
    CONSTRAINT branches_branch_code_format CHECK (branch_code ~ '^[0-9]{3}$')
);

CREATE INDEX idx_banks_name    ON public.banks (bank_name);
CREATE INDEX idx_branches_name ON public.branches (branch_name);
CREATE INDEX idx_branches_bank ON public.branches (bank_code);
