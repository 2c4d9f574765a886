-- lambda/001_schemas.sql
-- Seed 000 §2. The seed's two databases (lambda_logs, lambda_meta) are collapsed
-- into ONE database holding the three schemas (see sql/README.md, deviation L1).
-- public already exists in every database.

CREATE SCHEMA IF NOT EXISTS meta;       -- メタデータ管理用スキーマ
CREATE SCHEMA IF NOT EXISTS analytics;  -- 分析用ビュー・集計テーブル
