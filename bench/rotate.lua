-- wrk script: rotate through the request paths listed (one per line) in the file named by
-- the first script argument, each thread from its own random starting point, so no single
-- URL stays hot in a cache. Usage: wrk -s bench/rotate.lua http://host:port -- paths.txt

local paths = {}
local position = 1
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_number", thread_count)
end

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then
      paths[#paths + 1] = line
    end
  end
  if #paths == 0 then
    error("no paths in " .. args[1])
  end
  math.randomseed(os.time() * 1000 + (thread_number or 0))
  position = math.random(#paths)
end

function request()
  position = position % #paths + 1
  return wrk.format("GET", paths[position])
end
