-- unplab.lua: a Wireshark dissector for unplab's lab protocols (docs/protocols/): lottery,
-- file transfer, sum (text and binary), echo and daytime. Install and use: docs/capture.md.
-- Ports are preferences (Edit > Preferences > Protocols > UNPLAB; tshark -o
-- unplab.lottery_ports:10000); where two protocols share a port, the first bytes decide,
-- as labtrace guesses. Heuristics claim other ports only on unmistakable server bytes.
-- Fields are under "unplab."; numbers on the wire are little-endian (the C programs' x86).

local unplab = Proto("unplab", "unplab lab protocols")

local commands = { [0] = "GEN", [1] = "LIST", [2] = "END" }
local fields = {
    proto = ProtoField.string("unplab.proto", "Lab protocol"),
    command = ProtoField.int32("unplab.lottery.command", "Command", base.DEC, commands),
    command_name = ProtoField.string("unplab.lottery.command_name", "Command name"),
    reply = ProtoField.string("unplab.lottery.reply", "Reply"),
    reply_kind = ProtoField.string("unplab.lottery.reply_kind", "Reply kind"),
    number = ProtoField.uint8("unplab.lottery.number", "Number"),
    path = ProtoField.string("unplab.ft.path", "Path requested"),
    length = ProtoField.int32("unplab.ft.length", "Segment length"),
    kind = ProtoField.string("unplab.ft.kind", "Segment kind"),
    data = ProtoField.bytes("unplab.ft.data", "File data"),
    error = ProtoField.stringz("unplab.ft.error", "Error message"),
    padding = ProtoField.bytes("unplab.ft.padding", "Padding"),
    encoding = ProtoField.string("unplab.sum.encoding", "Encoding"),
    a = ProtoField.int64("unplab.sum.a", "A"),
    b = ProtoField.int64("unplab.sum.b", "B"),
    sum = ProtoField.int64("unplab.sum.sum", "Sum"),
    sum_line = ProtoField.string("unplab.sum.line", "Line"),
    echo = ProtoField.string("unplab.echo.text", "Echo text"),
    daytime = ProtoField.string("unplab.daytime.text", "Date and time"),
}
unplab.fields = {}
for _, f in pairs(fields) do table.insert(unplab.fields, f) end

local malformed = ProtoExpert.new("unplab.malformed", "Not what the lab protocol allows",
    expert.group.MALFORMED, expert.severity.WARN)
unplab.experts = { malformed }
unplab.prefs.lottery_ports = Pref.range("Lottery ports", "10000", "TCP ports of lotteryserver", 65535)
unplab.prefs.ft_ports = Pref.range("File transfer ports", "10000", "TCP ports of ftserver and iterftserver", 65535)
unplab.prefs.echo_ports = Pref.range("Echo ports", "9877", "TCP ports of the echo servers", 65535)
unplab.prefs.sum_ports = Pref.range("Sum ports", "9877", "TCP ports of tcpserv08 and tcpserv09", 65535)
unplab.prefs.daytime_ports = Pref.range("Daytime ports", "13", "TCP ports of daytimetcpsrv", 65535)

local pref_of = { lottery = "lottery_ports", ft = "ft_ports", echo = "echo_ports",
    sum08 = "sum_ports", sum09 = "sum_ports", daytime = "daytime_ports" }
local order = { "lottery", "ft", "sum09", "sum08", "echo", "daytime" }

-- True if `port` is in a range preference's text ("10000,10002-10005").
local function in_range(text, port)
    for part in string.gmatch(text or "", "[^,%s]+") do
        local lo, hi = string.match(part, "^(%d+)-?(%d*)$")
        lo, hi = tonumber(lo), tonumber(hi) or tonumber(lo)
        if lo and port >= lo and port <= hi then return true end
    end
    return false
end

-- What we know of each TCP stream: its protocol and its server's port.
local streams = {}
local tcp_stream = Field.new("tcp.stream")
function unplab.init()
    streams = {}
end

-- True if a port preference names `port`.
local function lab_port(port)
    local all = {}
    for _, pref in pairs(pref_of) do table.insert(all, unplab.prefs[pref]) end
    return in_range(table.concat(all, ","), port)
end

local function stream_state()
    local fi = tcp_stream()
    local id = fi and fi.value or -1
    streams[id] = streams[id] or {}
    return streams[id]
end

-- Byte patterns of each protocol, tried on the first bytes a side sends.
local function is_text(s)
    return not string.find(s, "[^\t\r\n\32-\126]")
end
local function lottery_commands(s)
    for i = 1, #s, 4 do
        if not string.match(string.sub(s, i, i + 3), "^[\0\1\2]\0*$") then
            return false
        end
    end
    return #s > 0
end
local function lottery_reply(s)
    return string.match(s, "^New number generated: %d+$") or string.match(s, "^Full$")
        or string.match(s, "^numbers: %d+ %d+ %d+ %d+ %d+ %d+$")
        or string.match(s, "^Unknown command: %-?%d+$")
end
local function daytime_line(s)
    return string.match(s, "^%a%a%a %a%a%a [ %d]%d %d%d:%d%d:%d%d %d%d%d%d\r?\n$")
end
-- Whole lines of two integers (a line may go on in the next segment).
local function sum_lines(s)
    local lines = 0
    for line in string.gmatch(s, "[^\n]*\n") do
        if not string.match(line, "^%s*[+-]?%d+%s+[+-]?%d+") then
            return false
        end
        lines = lines + 1
    end
    return lines > 0
end
-- File-transfer segments: 260 bytes each, a length of 1..256 in the first.
local function ft_segments(tvb)
    if tvb:len() < 520 then
        return false
    end
    for o = 0, tvb:len() - 260, 260 do
        local n = tvb(o, 4):le_int()
        if n < -1 or n > 256 or (o == 0 and n < 1) then
            return false
        end
    end
    return true
end

local guessers = {
    client = {
        lottery = lottery_commands,
        ft = function(s) return #s > 0 and #s < 256 and not string.find(s, "\0") end,
        sum09 = function(s) return not is_text(s) and (#s < 16 or #s % 16 == 0) end,
        sum08 = function(s) return is_text(s) and sum_lines(s) end,
        echo = function(s) return true end,
        daytime = function(s) return true end,
    },
    server = {
        lottery = lottery_reply,
        ft = function(s, tvb) return ft_segments(tvb) or #s % 260 == 0 end,
        sum09 = function(s) return #s % 8 == 0 and not is_text(s) end,
        sum08 = function(s) return sum_lines(s) or s == "input error\n" end,
        echo = function(s) return true end,
        daytime = function(s) return true end,
    },
}

-- The protocol of a stream on a registered port: the first whose port preference holds
-- the server's port and whose pattern the first bytes fit.
local function guess(server_port, side, tvb)
    local s = tvb:raw()
    local fallback
    for _, name in ipairs(order) do
        if in_range(unplab.prefs[pref_of[name]], server_port) then
            fallback = fallback or name
            if guessers[side][name](s, tvb) then
                return name
            end
        end
    end
    return fallback
end

-- Each protocol's messages. A parser gets the bytes from `o` on and returns how many it
-- used, or nil and how many more bytes a whole message needs.
local names = { lottery = "Lottery", ft = "File transfer", sum08 = "Sum (text, tcpserv08)",
    sum09 = "Sum (binary, tcpserv09)", echo = "Echo", daytime = "Daytime" }
local titles = { lottery = "LOTTERY", ft = "FT", sum08 = "SUM", sum09 = "SUM", echo = "ECHO", daytime = "DAYTIME" }
-- The protocol's tree item, made when a first message is added to it: a segment that
-- holds only part of a message shows none.
local function add_proto(tree, tvb, name, side)
    local way, t = side == "client" and "client to server" or "server to client", nil
    return setmetatable({}, { __index = function(_, method)
        return function(_, ...)
            if not t then
                t = tree:add(unplab, tvb(), names[name] .. " (unplab), " .. way)
                t:add(fields.proto, name):set_generated()
            end
            return t[method](t, ...)
        end
    end })
end

local parse = { client = {}, server = {} }

function parse.client.lottery(tvb, o, t, info)
    if tvb:len() - o < 4 then
        return nil, 4 - (tvb:len() - o)
    end
    local r = tvb(o, 4)
    local name = commands[r:le_int()] or ("unknown command " .. r:le_int())
    t:add_le(fields.command, r)
    t:add(fields.command_name, r, name)
    table.insert(info, name)
    return 4
end

function parse.server.lottery(tvb, o, t, info)
    local r = tvb(o)
    local s = r:raw()
    local kind = (string.find(s, "^New number") and "new number") or (s == "Full" and "full")
        or (string.find(s, "^numbers:") and "numbers") or (string.find(s, "^Unknown") and "unknown command")
    if not lottery_reply(s) then
        kind = "not a lottery reply"
        t:add_proto_expert_info(malformed, "not one of the lottery's replies")
    end
    t:add(fields.reply, r)
    t:add(fields.reply_kind, r, kind)
    if kind == "new number" or kind == "numbers" then
        local from = string.find(s, ":") + 1
        for first, digits in string.gmatch(string.sub(s, from), "()(%d+)") do
            t:add(fields.number, tvb(o + from + first - 2, #digits), tonumber(digits))
        end
    end
    table.insert(info, '"' .. s .. '"')
    return r:len()
end

function parse.client.ft(tvb, o, t, info)
    local r = tvb(o)
    t:add(fields.path, r)
    if r:len() > 255 or string.find(r:raw(), "\0") then
        t:add_proto_expert_info(malformed, "a path is at most 255 bytes, without NUL")
    end
    table.insert(info, 'path "' .. r:raw() .. '"')
    return r:len()
end

-- A segment of 260 bytes: the length, then 256 bytes of which the first `length` are data.
-- After an error or end-of-file segment (in an earlier frame, or earlier in this one)
-- nothing may follow.
function parse.server.ft(tvb, o, t, info, st, pinfo)
    if info.done or (st.ft_end and pinfo.number > st.ft_end) then
        t:add_proto_expert_info(malformed, "bytes after the last segment")
        table.insert(info, "bytes after the last segment")
        return tvb:len() - o
    end
    if tvb:len() - o < 260 then
        return nil, 260 - (tvb:len() - o)
    end
    local n = tvb(o, 4):le_int()
    local seg = t:add(unplab, tvb(o, 260), "File segment, length " .. n)
    seg:add_le(fields.length, tvb(o, 4))
    local kind = (n == -1 and "error") or (n == 0 and "end of file") or (n == 256 and "data")
        or (n > 0 and n < 256 and "last data") or "protocol error"
    seg:add(fields.kind, tvb(o, 4), kind)
    if n == -1 then
        seg:add(fields.error, tvb(o + 4, 256))
        table.insert(info, 'error "' .. tvb(o + 4, 256):stringz() .. '"')
    elseif n >= 0 and n <= 256 then
        if n > 0 then seg:add(fields.data, tvb(o + 4, n)) end
        seg:add(fields.padding, tvb(o + 4 + n, 256 - n))
        table.insert(info, n == 0 and "end-of-file segment" or "segment len=" .. n)
    else
        seg:add_proto_expert_info(malformed, "segment length " .. n .. " is outside -1..256")
        table.insert(info, "bad segment length " .. n)
    end
    if n == -1 or n == 0 then
        info.done = true
        st.ft_end = math.min(st.ft_end or pinfo.number, pinfo.number)
    end
    return 260
end

-- A decimal text as an Int64 (sscanf's %ld), so filters compare whole 64-bit values.
local function int64(text)
    local sign, digits = string.match(text, "^([+-]?)(%d+)$")
    local v = Int64.new(0)
    for d in string.gmatch(digits, "%d") do
        v = v * 10 + tonumber(d)
    end
    return sign == "-" and -v or v
end

-- One line of text (tcpserv08), or nil and "one more segment" until the line ends.
local function line_at(tvb, o)
    local s = tvb(o):raw()
    local e = string.find(s, "\n", 1, true)
    if not e then
        return nil, DESEGMENT_ONE_MORE_SEGMENT
    end
    return tvb(o, e), string.sub(s, 1, e)
end

-- tcpserv08: a request line `A B` (as sscanf's "%ld%ld" reads it), a reply line `A+B`.
local function text_sum(side)
    return function(tvb, o, t, info)
        local r, s = line_at(tvb, o)
        if not r then
            return nil, s
        end
        t:add(fields.encoding, "text"):set_generated()
        t:add(fields.sum_line, r)
        local a_at, a, b_at, b = string.match(s, "^%s*()([+-]?%d+)%s+()([+-]?%d+)")
        local v = string.match(s, "^([+-]?%d+)\r?\n$")
        if side == "client" and a then
            t:add(fields.a, tvb(o + a_at - 1, #a), int64(a))
            t:add(fields.b, tvb(o + b_at - 1, #b), int64(b))
            table.insert(info, "sum " .. a .. " + " .. b)
        elseif side == "server" and v then
            t:add(fields.sum, tvb(o, #v), int64(v))
            table.insert(info, "sum = " .. v)
        else
            table.insert(info, '"' .. string.gsub(s, "\n", "\\n") .. '"')
        end
        return r:len()
    end
end
parse.client.sum08 = text_sum("client")
parse.server.sum08 = text_sum("server")

local function binary(size)
    return function(tvb, o, t, info)
        if tvb:len() - o < size then
            return nil, size - (tvb:len() - o)
        end
        t:add(fields.encoding, "binary"):set_generated()
        if size == 16 then
            t:add_le(fields.a, tvb(o, 8))
            t:add_le(fields.b, tvb(o + 8, 8))
            table.insert(info, "sum " .. tostring(tvb(o, 8):le_int64()) .. " + " .. tostring(tvb(o + 8, 8):le_int64()))
        else
            t:add_le(fields.sum, tvb(o, 8))
            table.insert(info, "sum = " .. tostring(tvb(o, 8):le_int64()))
        end
        return size
    end
end
parse.client.sum09 = binary(16)
parse.server.sum09 = binary(8)

local function text(field, what)
    return function(tvb, o, t, info)
        local r = tvb(o)
        t:add(field, r)
        table.insert(info, what .. '"' .. string.gsub(r:raw(), "[\r\n]", { ["\r"] = "\\r", ["\n"] = "\\n" }) .. '"')
        return r:len()
    end
end
parse.client.echo = text(fields.echo, "")
parse.server.echo = text(fields.echo, "")
parse.client.daytime = text(fields.daytime, "(the client should send nothing) ")
parse.server.daytime = text(fields.daytime, "daytime ")

local info_frame -- a frame dissected twice (two reassembled messages) gets both in its info
function unplab.dissector(tvb, pinfo, tree)
    local st = stream_state()
    if not st.server_port then
        -- The server's port is the one a preference names (the lower one if both are).
        local src, dst = lab_port(pinfo.src_port), lab_port(pinfo.dst_port)
        st.server_port = ((dst and not src) or (dst and pinfo.dst_port < pinfo.src_port))
            and pinfo.dst_port or pinfo.src_port
    end
    local side = pinfo.dst_port == st.server_port and "client" or "server"
    st.proto = st.proto or guess(st.server_port, side, tvb)
    if not st.proto then return 0 end
    local t = add_proto(tree, tvb, st.proto, side)
    local info, o = {}, 0
    while o < tvb:len() do
        local used, more = parse[side][st.proto](tvb, o, t, info, st, pinfo)
        if not used then
            pinfo.desegment_offset = o
            pinfo.desegment_len = more
            break
        end
        o = o + used
    end
    if #info > 0 then
        pinfo.cols.protocol = titles[st.proto]
        pinfo.cols.info = (info_frame == pinfo.number and ", " or "") .. table.concat(info, ", ")
        info_frame = pinfo.number
    end
    return tvb:len()
end

-- Heuristics, for servers on other ports: only bytes no other protocol sends.
local function heuristic(tvb, pinfo, tree)
    local s = tvb:raw()
    local name = (lottery_reply(s) and s ~= "Full" and "lottery") or (daytime_line(s) and "daytime")
        or (ft_segments(tvb) and "ft")
    if not name then return false end
    local st = stream_state()
    st.server_port, st.proto = pinfo.src_port, name
    pinfo.conversation = unplab
    unplab.dissector(tvb, pinfo, tree)
    return true
end
unplab:register_heuristic("tcp", heuristic)

-- The port preferences, registered in TCP's port table (again when they change).
local registered = {}
local function register_ports()
    local tcp_port = DissectorTable.get("tcp.port")
    for range in pairs(registered) do tcp_port:remove(range, unplab) end
    registered = {}
    for _, pref in pairs(pref_of) do
        local range = unplab.prefs[pref]
        if range ~= "" and not registered[range] then
            tcp_port:add(range, unplab)
            registered[range] = true
        end
    end
end
unplab.prefs_changed = register_ports
register_ports()
