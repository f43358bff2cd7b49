-- The caller's consent to being recorded (issue #11.2).
-- A call's consent: NULL while unknown, else a JSON object
-- {"state": "granted", "by": …, "user_id": …, "via": "sip", "at": "…"} (CallConsent).
ALTER TABLE calls ADD COLUMN consent TEXT;
-- An automatic rule with it records only once consent is granted; every rule that exists
-- already records regardless of consent, as it did.
ALTER TABLE rules ADD COLUMN require_consent BOOLEAN NOT NULL DEFAULT FALSE;
