// Import fidelity (issue 9): a plain `pg_dump DB > file.sql` (no CREATE DATABASE, no \c) is
// imported into the resource's source.database, with every kind of object a real schema has.
// The dump is made with the real pg_dump from a scratch server (a clone of Chinook); the
// reference is a direct psql import of the same file into a fresh database.
#include <catch2/catch.hpp>

#include <fstream>

#include "e2e/zdapd_fixture.h"

using namespace zdap::test;

namespace {

constexpr const char* kSchema = R"SQL(
CREATE SCHEMA shop;
CREATE DOMAIN shop.price AS numeric(10,2) CHECK (VALUE >= 0);
CREATE TYPE shop.status AS ENUM ('new', 'paid', 'shipped');
CREATE TABLE shop.item (id serial PRIMARY KEY, name text NOT NULL UNIQUE, cost shop.price);
CREATE TABLE shop.orders (id serial PRIMARY KEY, item int REFERENCES shop.item,
                          state shop.status DEFAULT 'new', touched timestamptz);
CREATE TABLE shop.rush_orders (deadline date CHECK (deadline > '2000-01-01')) INHERITS (shop.orders);
CREATE FUNCTION shop.touch() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN NEW.touched := now(); RETURN NEW; END $$;
CREATE TRIGGER orders_touch BEFORE INSERT OR UPDATE ON shop.orders
  FOR EACH ROW EXECUTE FUNCTION shop.touch();
CREATE FUNCTION shop.total(s shop.status) RETURNS numeric LANGUAGE sql STABLE AS
  $$ SELECT coalesce(sum(i.cost), 0) FROM shop.orders o JOIN shop.item i ON i.id = o.item
     WHERE o.state = s $$;
CREATE VIEW shop.paid AS SELECT o.id, i.name FROM shop.orders o JOIN shop.item i ON i.id = o.item
  WHERE o.state = 'paid';
CREATE MATERIALIZED VIEW shop.counts AS SELECT state, count(*) FROM shop.orders GROUP BY state;
INSERT INTO shop.item (name, cost) VALUES ('a', 1.50), ('b', 2);
INSERT INTO shop.orders (item, state) VALUES (1, 'paid'), (2, 'new');
INSERT INTO shop.rush_orders (item, state, deadline) VALUES (1, 'paid', '2030-01-01');
)SQL";

// Relations, functions, triggers, types and constraints outside the system schemas.
constexpr const char* kCounts =
    "SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE "
    "'pg_toast%') || ' ' || (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = "
    "p.pronamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')) || ' ' || "
    "(SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal) || ' ' || (SELECT count(*) FROM "
    "pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname NOT IN "
    "('pg_catalog', 'information_schema', 'pg_toast')) || ' ' || (SELECT count(*) FROM "
    "pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname NOT IN "
    "('pg_catalog', 'information_schema')) || ' ' || (SELECT count(*) FROM shop.orders)";

struct Clone {
  int port = 0;
  std::string password;
};

Clone MakeClone(ZdapdFixture& d, const std::string& resource, const std::string& name) {
  std::string body;
  int code =
      d.Call("POST", "/v1/resources/" + resource + "/clones", "{\"name\":\"" + name + "\"}", &body);
  INFO(body << d.LogText());
  REQUIRE(code == 201);
  return {std::stoi(JsonField(body, "port")), JsonField(body, "password")};
}

std::string Counts(const Clone& c, const std::string& db) {
  std::string out;
  int rc = Psql(c.port, c.password, kCounts, &out, db);
  INFO(out);
  CHECK(rc == 0);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace

TEST_CASE("a plain pg_dump of one database is imported into source.database, object for object") {
  TempDir work("zdap-fidelity");
  std::string schema = work.path() + "/schema.sql";
  std::string dump = work.path() + "/shop.sql";
  std::ofstream(schema) << kSchema;

  // The scratch server: a clone of Chinook. The schema goes into a database there, pg_dump
  // dumps it (plain format, no --create), and psql imports the dump into a fresh database.
  ZdapdFixture scratch;
  REQUIRE(scratch.Host("refresh chinook") == 0);
  scratch.Start();
  Clone s = MakeClone(scratch, "chinook", "scratch");
  std::string out;
  INFO(out);
  REQUIRE(Psql(s.port, s.password, "create database src", &out) == 0);
  REQUIRE(Psql(s.port, s.password, "create database direct", &out) == 0);
  std::string env = "PGPASSWORD='" + s.password + "' PGCONNECT_TIMEOUT=10 ";
  std::string at = " -h 127.0.0.1 -p " + std::to_string(s.port) + " -U postgres ";
  REQUIRE(Shell(env + "psql -X -q -v ON_ERROR_STOP=1" + at + "-d src -f " + schema + " 2>&1",
                &out) == 0);
  REQUIRE(Shell(env + "pg_dump" + at + "src > " + dump + " 2>" + work.path() + "/pg_dump.err") ==
          0);
  REQUIRE(Shell("grep -c 'CREATE DATABASE' " + dump) != 0);  // a dump of one database
  REQUIRE(Shell(env + "psql -X -q -v ON_ERROR_STOP=1" + at + "-d direct -f " + dump + " 2>&1",
                &out) == 0);
  std::string reference = Counts(s, "direct");
  // Sanity: the reference holds what the schema made (2 tables' rows seen through inheritance).
  REQUIRE(reference.size() > 10);
  CHECK(reference.substr(reference.rfind(' ') + 1) == "3");

  // The same dump as a zdap resource whose database the dump does not create.
  ZdapdFixture d("", "name: chinook\nengine: postgres\nsource:\n  dump: " + dump +
                         "\n  database: shop\nclone:\n  ttl: 1h\n"
                         "credentials: {user: postgres, password: zdap}\n");
  out.clear();
  REQUIRE(d.Host("refresh chinook", &out) == 0);
  d.Start();
  Clone c = MakeClone(d, "chinook", "shop-1");
  CHECK(Counts(c, "shop") == reference);
  // The maintenance database is there again, empty of the dump's objects.
  out.clear();
  CHECK(Psql(c.port, c.password, "select to_regclass('shop.orders') is null", &out, "postgres") ==
        0);
  CHECK(out == "t\n");
}

TEST_CASE("a dump that makes neither source.database nor any object fails the refresh clearly") {
  TempDir work("zdap-fidelity");
  std::string dump = work.path() + "/other.sql";
  std::ofstream(dump) << "CREATE DATABASE other;\n";
  ZdapdFixture d("", "name: chinook\nengine: postgres\nsource:\n  dump: " + dump +
                         "\n  database: shop\nclone:\n  ttl: 1h\n"
                         "credentials: {user: postgres, password: zdap}\n");
  std::string out;
  CHECK(d.Host("refresh chinook", &out) != 0);
  INFO(out);
  CHECK(out.find("neither creates database shop") != std::string::npos);
  CHECK(out.find("set source.database") != std::string::npos);
}
