-- Webhook dispatch (issue #11.4): a rule's webhook secret and each queued webhook's copy of it
-- live apart from the dispatch JSON, which holds the mask instead, so no answer, audit row or
-- journal that shows a rule or a target can carry the secret.
ALTER TABLE rules ADD COLUMN dispatch_secret TEXT;
ALTER TABLE dispatch ADD COLUMN secret TEXT;
