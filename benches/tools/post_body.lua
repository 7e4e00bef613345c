-- Usage: LP_FILE=body.lp [LP_PATH=/v1/write/metric] [LP_TYPE=text/plain] wrk -s post_body.lua URL
-- Every request POSTs the whole of LP_FILE (read once, at start) to LP_PATH.
local name = os.getenv("LP_FILE")
if not name or name == "" then
  error("post_body.lua: set LP_FILE to the file to post")
end
local file = assert(io.open(name, "rb"))
local body = file:read("*a")
file:close()

wrk.method = "POST"
wrk.path = os.getenv("LP_PATH") or "/v1/write/metric"
wrk.body = body
wrk.headers["Content-Type"] = os.getenv("LP_TYPE") or "text/plain"
