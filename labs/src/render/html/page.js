// labtrace --html: the page's only script (inlined into the page). Pointing at a field
// highlights its bytes; pointing at a byte highlights the innermost field holding it.
// With #selftest in the URL, it checks every highlight itself and writes the results
// into <pre id="selftest"> for the tests that load the page in a headless browser.
(function () {
  "use strict";
  var errors = [];
  window.addEventListener("error", function (e) {
    errors.push("error: " + e.message + " (line " + e.lineno + ")");
  });
  var consoleError = console.error;
  console.error = function () {
    errors.push("console.error: " + Array.prototype.join.call(arguments, " "));
    consoleError.apply(console, arguments);
  };

  // A segment's byte elements (hex and character) by offset.
  function bytesOf(seg) {
    if (!seg.bytesByOffset) {
      seg.bytesByOffset = {};
      seg.querySelectorAll(".hex [data-i]").forEach(function (b) {
        (seg.bytesByOffset[b.dataset.i] = seg.bytesByOffset[b.dataset.i] || []).push(b);
      });
    }
    return seg.bytesByOffset;
  }

  function clear(seg) {
    seg.querySelectorAll(".hl").forEach(function (e) { e.classList.remove("hl"); });
  }

  function light(field) {
    var seg = field.closest(".seg"), bytes = bytesOf(seg);
    clear(seg);
    field.classList.add("hl");
    for (var i = +field.dataset.s; i < +field.dataset.e; i++) {
      (bytes[i] || []).forEach(function (b) { b.classList.add("hl"); });
    }
  }

  // The innermost field holding byte i: the shortest, the deepest of equal ones.
  function fieldAt(seg, i) {
    var best = null;
    seg.querySelectorAll(".f").forEach(function (f) {
      var s = +f.dataset.s, e = +f.dataset.e;
      if (s <= i && i < e && (!best || e - s <= best.dataset.e - best.dataset.s)) best = f;
    });
    return best;
  }

  document.addEventListener("mouseover", function (ev) {
    var t = ev.target;
    if (!t.closest) return;
    var field = t.closest(".f");
    if (field) { light(field); return; }
    var b = t.closest(".hex [data-i]");
    if (!b) return;
    var seg = b.closest(".seg"), f = fieldAt(seg, +b.dataset.i);
    if (f) { light(f); } else { clear(seg); b.classList.add("hl"); }
  });
  document.addEventListener("mouseout", function (ev) {
    var seg = ev.target.closest && ev.target.closest(".seg");
    if (seg && !seg.contains(ev.relatedTarget)) clear(seg);
  });

  // A link to a segment (the bookkeeping tables' rows) opens it.
  function openTarget() {
    var target = location.hash && document.getElementById(location.hash.slice(1));
    if (target && target.tagName === "DETAILS") target.open = true;
  }
  window.addEventListener("hashchange", openTarget);
  window.addEventListener("load", openTarget);

  function hover(el) {
    el.dispatchEvent(new MouseEvent("mouseover", { bubbles: true, view: window }));
  }

  // Which bytes are highlighted, as "OFFSETS HEX" (hex from the hex column).
  function lit(seg) {
    var offsets = [], hex = [];
    seg.querySelectorAll(".hex [data-i].hl:not(.a)").forEach(function (b) {
      offsets.push(+b.dataset.i);
      hex.push(b.textContent);
    });
    return { offsets: offsets, hex: hex.join("") };
  }

  // Points at every field and every byte of every segment shown and writes one line
  // per check: "field FRAME NAME START-END ok|bad HEX", "byte FRAME OFFSET NAME ok|bad".
  function selftest() {
    var out = [];
    document.querySelectorAll("details.seg").forEach(function (seg) {
      seg.open = true;
      var frame = seg.dataset.frame, bytes = bytesOf(seg), shown = Object.keys(bytes).length;
      seg.querySelectorAll(".f").forEach(function (f) {
        hover(f.querySelector(".l"));
        var s = +f.dataset.s, e = Math.min(+f.dataset.e, shown), got = lit(seg), ok = f.classList.contains("hl");
        ok = ok && got.offsets.length === Math.max(e - s, 0) && (e <= s || (got.offsets[0] === s && got.offsets[got.offsets.length - 1] === e - 1));
        seg.querySelectorAll(".hex .a.hl").forEach(function (a) { ok = ok && a.dataset.i >= s && a.dataset.i < e; });
        out.push("field " + frame + " " + f.dataset.name + " " + s + "-" + f.dataset.e + " " + (ok ? "ok" : "bad") + " " + got.hex);
      });
      seg.querySelectorAll(".hex [data-i]:not(.a)").forEach(function (b) {
        hover(b);
        var i = +b.dataset.i, want = fieldAt(seg, i), on = seg.querySelectorAll(".f.hl");
        var ok = want ? on.length === 1 && on[0] === want && b.classList.contains("hl") : on.length === 0;
        out.push("byte " + frame + " " + i + " " + (want ? want.dataset.name : "-") + " " + (ok ? "ok" : "bad"));
      });
      clear(seg);
    });
    out.push("segments " + document.querySelectorAll("details.seg").length);
    errors.forEach(function (e) { out.push(e); });
    out.push("errors " + errors.length);
    var pre = document.getElementById("selftest");
    pre.textContent = out.join("\n") + "\n";
    pre.hidden = false;
  }
  if (location.hash === "#selftest") window.addEventListener("load", selftest);
})();
