#!/bin/sh
set -e
# Wait for the database, then start the server.
until nc -z db 5432; do
  sleep 1
done
/opt/app/bin/server --port 8080
