// Charts drawn from a page's JSON config (json_script); one file so pages carry no inline script
// (the Content-Security-Policy allows scripts from this site only). Each part runs only where its
// config is on the page.
(function () {
  if (document.getElementById("progress-config")) (function () {
    var cfg = JSON.parse(document.getElementById("progress-config").textContent);
    var chart = echarts.init(document.getElementById("progress-chart"));
    var num = function (v) { return Number(v); };
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 70, right: 20, top: 40, bottom: 70 },
      xAxis: { type: "category", data: cfg.names, axisLabel: { rotate: 30, interval: 0, width: 90, overflow: "truncate" } },
      yAxis: { type: "value" },
      series: [
        { name: cfg.labels.target, type: "bar", data: cfg.target.map(num), itemStyle: { color: "#d0d7e2" } },
        { name: cfg.labels.actual, type: "bar", data: cfg.actual.map(num), itemStyle: { color: "#206bc4" } },
      ],
    });
    window.addEventListener("resize", function () { chart.resize(); });
  })();
  if (document.getElementById("forecast-config")) (function () {
    var cfg = JSON.parse(document.getElementById("forecast-config").textContent);
    var chart = echarts.init(document.getElementById("forecast-chart"));
    var num = function (v) { return v === null ? null : Number(v); };
    var bar = function (key) { return { name: cfg.labels[key], type: "bar", data: cfg.series[key].map(num) }; };
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 70, right: 20, top: 40, bottom: 30 },
      xAxis: { type: "category", data: cfg.months },
      yAxis: { type: "value" },
      series: [bar("weighted"), bar("committed"), bar("won"), { name: cfg.labels.target, type: "line", data: cfg.series.target.map(num), connectNulls: false }],
    });
    window.addEventListener("resize", function () { chart.resize(); });
  })();
  if (document.getElementById("map-config")) (function () {
    var cfg = JSON.parse(document.getElementById("map-config").textContent);
    var el = document.getElementById("customer-map");
    var status = document.getElementById("map-status");
    var chart = echarts.init(el);
    var byTier = {};
    cfg.tiers.forEach(function (t) { byTier[t.value] = t; });
    chart.setOption({
      animation: false,
      // A tooltip formatter's string is HTML: customer names are data, so they are escaped.
      tooltip: { trigger: "item", formatter: function (p) { return echarts.format.encodeHTML(p.data && p.data.name ? p.data.name : (p.name || "")); } },
      legend: { top: 0, data: cfg.tiers.map(function (t) { return t.label; }) },
      geo: { map: "china", roam: true, top: 30, itemStyle: { areaColor: "#f1f5f9", borderColor: "#94a3b8" }, emphasis: { itemStyle: { areaColor: "#e2e8f0" }, label: { show: false } } },
      series: cfg.tiers.map(function (t) {
        return { id: t.value, name: t.label, type: "scatter", coordinateSystem: "geo", symbolSize: 9, itemStyle: { color: t.color }, data: [] };
      })
    });
    chart.on("click", function (p) {
      if (p.componentType === "series" && p.data && p.data.id) {
        window.location.href = cfg.detail_url.replace("/0/", "/" + p.data.id + "/");
      }
    });
    window.addEventListener("resize", function () { chart.resize(); });
    fetch(cfg.points_url + window.location.search, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (data) {
        var groups = {};
        cfg.tiers.forEach(function (t) { groups[t.value] = []; });
        data.points.forEach(function (p) {
          (groups[p[4]] || (groups[p[4]] = [])).push({ name: p[3], value: [p[0], p[1]], id: p[2] });
        });
        chart.setOption({ series: cfg.tiers.map(function (t) { return { id: t.value, data: groups[t.value] }; }) });
        var text = data.truncated ? cfg.labels.truncated : cfg.labels.shown;
        status.textContent = text.replace("%(n)s", data.points.length.toLocaleString());
        el.dataset.points = String(data.points.length);
      })
      .catch(function () { status.textContent = cfg.labels.failed; status.classList.add("text-danger"); });
  })();
  if (document.getElementById("economics-config")) (function () {
    var cfg = JSON.parse(document.getElementById("economics-config").textContent);
    var chart = echarts.init(document.getElementById("economics-chart"));
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis" },
      grid: { left: 70, right: 20, top: 20, bottom: 80 },
      xAxis: { type: "category", data: cfg.names, axisLabel: { rotate: 30, interval: 0, width: 110, overflow: "truncate" } },
      yAxis: { type: "value" },
      series: [{ type: "bar", data: cfg.values.map(function (v, i) { return { value: Number(v), itemStyle: { color: cfg.kinds[i] === "cost" ? "#d63939" : "#2fb344" } }; }) }],
    });
    window.addEventListener("resize", function () { chart.resize(); });
  })();
  if (document.getElementById("complaint-chart")) (function () {
    var cfg = JSON.parse(document.getElementById("complaint-chart").textContent);
    var charts = [];
    function bars(id, data, horizontal) {
      var chart = echarts.init(document.getElementById(id));
      var cat = { type: "category", data: data.labels, axisLabel: { width: 110, overflow: "truncate" } };
      var val = { type: "value", minInterval: 1 };
      chart.setOption({ animation: false, tooltip: { trigger: "axis" }, grid: { left: horizontal ? 120 : 40, right: 16, top: 16, bottom: 30 },
        xAxis: horizontal ? val : cat, yAxis: horizontal ? Object.assign({ inverse: true }, cat) : val,
        series: [{ name: cfg.labels.complaints, type: "bar", data: data.counts }] });
      charts.push(chart);
    }
    bars("chart-period", cfg.period, false);
    bars("chart-department", cfg.department, true);
    bars("chart-product", cfg.product, true);
    var pie = echarts.init(document.getElementById("chart-cause"));
    pie.setOption({ animation: false, tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)" },
      series: [{ type: "pie", radius: ["35%", "65%"], data: cfg.cause, label: { formatter: "{b} {d}%" } }] });
    charts.push(pie);
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  })();
})();
