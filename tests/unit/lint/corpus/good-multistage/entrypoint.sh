#!/bin/bash
set -euo pipefail
# Prepare the configuration, then hand PID 1 to the application.
if [ -n "${CONFIG_URL:-}" ]; then
  curl -fsS "$CONFIG_URL" -o /tmp/config.json
fi
exec "$@"
