-- wrk: each request of a connection asks for another of nginx's static
-- files (fixtures/nginx/mkwww.sh), so that a response paired with the
-- wrong request shows as a body that is not the file asked for.
local paths = { "/big.bin", "/static/256k.bin", "/data.json",
		"/static/small.txt" }
local n = 0

request = function()
	n = n + 1
	return wrk.format("GET", paths[n % #paths + 1])
end
