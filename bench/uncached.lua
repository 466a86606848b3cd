-- Adds a unique query parameter (the API ignores unknown ones) so every request misses the
-- public response cache: this measures what a list request costs the database.
counter = 0
request = function()
  counter = counter + 1
  local sep = string.find(wrk.path, "?", 1, true) and "&" or "?"
  return wrk.format(nil, wrk.path .. sep .. "miss=" .. counter .. "-" .. math.random(1, 1000000000))
end
