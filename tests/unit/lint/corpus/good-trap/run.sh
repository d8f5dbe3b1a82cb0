#!/bin/sh
# The application runs in the background; TERM is forwarded and waited for.
/opt/app/serve &
child=$!
trap 'kill -TERM "$child"' TERM INT
wait "$child"
