// chainrule backward-pass stepper. Reads the steps (computed by chainrule's engine run, in Python) from the
// JSON block next to this script and shows one step at a time. No network, no libraries.
(function (root) {
  "use strict";
  if (!root || root.dataset.crReady) { return; }
  root.dataset.crReady = "1";
  var data = JSON.parse(root.querySelector("script.cr-data").textContent);
  var steps = data.steps;
  var pic = root.querySelector(".cr-pic");
  var text = root.querySelector(".cr-text");
  var count = root.querySelector(".cr-count");
  var prev = root.querySelector(".cr-prev");
  var next = root.querySelector(".cr-next");
  var current = 0;

  function each(selector, fn) { Array.prototype.forEach.call(pic.querySelectorAll(selector), fn); }
  function node(box) { return pic.querySelector('.cr-node[data-box="' + box + '"]'); }

  function show(k) {
    current = Math.max(0, Math.min(steps.length - 1, k));
    // the picture: replay the gradients sent up to this step, then highlight this step's boxes and edges
    each(".cr-node", function (g) { g.classList.remove("cr-focus", "cr-done"); });
    each(".cr-edge", function (g) {
      g.classList.remove("cr-focus", "cr-sent");
      var t = g.querySelector("text.cr-elabel"); if (t) { t.textContent = ""; }
    });
    each("text.cr-grad", function (t) { t.textContent = t.getAttribute("data-empty"); });
    for (var s = 0; s <= current; s++) {
      var st = steps[s];
      Object.keys(st.edges).forEach(function (i) {
        var e = pic.querySelector('.cr-edge[data-i="' + i + '"]');
        if (!e) { return; }
        e.querySelector("text.cr-elabel").textContent = st.edges[i];
        e.classList.add("cr-sent");
        if (s === current) { e.classList.add("cr-focus"); }
      });
      Object.keys(st.grads).forEach(function (box) {
        var n = node(box); if (!n) { return; }
        var t = n.querySelector("text.cr-grad"); if (t) { t.textContent = st.grads[box]; }
        if (s < current) { n.classList.add("cr-done"); }
      });
    }
    steps[current].focus.forEach(function (box) { var n = node(box); if (n) { n.classList.add("cr-focus"); } });
    // the words
    var st = steps[current];
    var html = "<h4></h4><ul></ul>";
    text.innerHTML = html;
    text.querySelector("h4").textContent = st.title;
    var ul = text.querySelector("ul");
    st.lines.forEach(function (line) {
      var li = document.createElement("li");
      li.textContent = line.text;
      if (line.sum) { li.className = "cr-sum"; }
      ul.appendChild(li);
    });
    count.textContent = "step " + current + " of " + (steps.length - 1);
    prev.disabled = current === 0;
    next.disabled = current === steps.length - 1;
  }

  prev.addEventListener("click", function () { show(current - 1); });
  next.addEventListener("click", function () { show(current + 1); });
  root.addEventListener("keydown", function (ev) {
    var keys = { ArrowRight: current + 1, ArrowDown: current + 1, ArrowLeft: current - 1, ArrowUp: current - 1,
                 Home: 0, End: steps.length - 1 };
    if (ev.key in keys && ev.target.tagName !== "INPUT") { ev.preventDefault(); show(keys[ev.key]); }
  });
  root.querySelector(".cr-controls").hidden = false;
  show(0);
})(document.getElementById("__CR_ID__"));
