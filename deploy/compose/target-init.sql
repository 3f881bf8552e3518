-- The compose example's target database `bank`: a tiny sample schema with the tables and columns
-- that deploy/policy/bank-example.yaml names (bank.customers.ssn and .email, bank.cards.pan,
-- bank.accounts.iban), filled with made-up values (test card numbers, example IBANs, SSNs that
-- are never issued). The postgres image runs this once, when its data volume is first created,
-- as the superuser and with psql, in database `bank`.

-- The role the gateway logs in as (portcullis.targets.main.user). Not a superuser, and it owns
-- nothing: it may read and write the sample data, and nothing else.
CREATE ROLE portcullis_gateway LOGIN;
-- Its password comes from the container's environment (TARGET_PASSWORD, from
-- secrets/target.env, made by make-keys.sh), so that it is in no file of the repository.
-- \getenv needs psql 15; an unset variable leaves :'...' unexpanded and the init fails.
\getenv gateway_password TARGET_PASSWORD
ALTER ROLE portcullis_gateway PASSWORD :'gateway_password';
-- The policy refuses `SET search_path`, so the role's default lets clients write `customers`
-- as well as `bank.customers` (the policy matches both).
ALTER ROLE portcullis_gateway SET search_path = bank, public;

CREATE SCHEMA bank;

CREATE TABLE bank.customers (
  id            bigint PRIMARY KEY,
  full_name     text NOT NULL,
  email         text,          -- masked: redact (customer-email), except for fraud-investigators
  ssn           text,          -- masked: partial, last 4 (customer-ssn); no filtering on it for operations
  date_of_birth date,
  created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE bank.cards (
  id          bigint PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES bank.customers (id),
  pan         text NOT NULL,   -- the card number; masked: partial, last 4 (card-numbers)
  expires     date NOT NULL,
  status      text NOT NULL DEFAULT 'active'
);

CREATE TABLE bank.accounts (
  id          bigint PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES bank.customers (id),
  iban        text NOT NULL,   -- masked: hash (ibans), the same on every node with the masking key
  currency    char(3) NOT NULL DEFAULT 'EUR',
  balance     numeric(14, 2) NOT NULL DEFAULT 0
);

-- Not named by any rule: reads by people are allowed, agents' reads need no approval.
CREATE TABLE bank.branches (
  id   bigint PRIMARY KEY,
  name text NOT NULL,
  city text NOT NULL
);

INSERT INTO bank.customers (id, full_name, email, ssn, date_of_birth) VALUES
  (1, 'Ada Example',   'ada@example.com',   '900-12-3456', '1980-04-01'),
  (2, 'Brian Sample',  'brian@example.org', '900-65-4321', '1975-11-23'),
  (3, 'Chloe Testcase', NULL,               '900-11-2222', '1992-07-15');

INSERT INTO bank.cards (id, customer_id, pan, expires) VALUES
  (1, 1, '4111111111111111', '2028-09-30'),
  (2, 2, '5555555555554444', '2027-03-31'),
  (3, 3, '378282246310005',  '2029-01-31');

INSERT INTO bank.accounts (id, customer_id, iban, balance) VALUES
  (1, 1, 'DE89370400440532013000', 1520.75),
  (2, 2, 'GB82WEST12345698765432', 98.10),
  (3, 3, 'FR1420041010050500013M02606', 12000.00);

INSERT INTO bank.branches (id, name, city) VALUES
  (1, 'Head office', 'Frankfurt'),
  (2, 'Harbour', 'Hamburg');

GRANT USAGE ON SCHEMA bank TO portcullis_gateway;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA bank TO portcullis_gateway;
