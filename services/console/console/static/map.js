// The map page: sample points coloured by their latest score, blind spots ringed,
// open cases as squares. Tiles only when the console is given a tile URL; without
// one the points stand on a plain background and nothing is fetched from elsewhere.
(function () {
  var data = JSON.parse(document.getElementById("map-data").textContent);
  var map = L.map("map", { preferCanvas: false, zoomSnap: 0.25 });
  if (data.tile_url) {
    L.tileLayer(data.tile_url, { maxZoom: 19, attribution: data.tile_attribution || "" }).addTo(map);
  } else {
    document.getElementById("map").classList.add("plain");
  }
  var colours = { good: "#1a7f37", mid: "#b7791f", bad: "#c62828", none: "#5f6b7a" };
  var bounds = [];
  data.points.forEach(function (p) {
    var marker = L.circleMarker([p.lat, p.lon], {
      radius: p.blind_spot ? 8 : 6,
      color: p.blind_spot ? "#111" : colours[p.band],
      weight: p.blind_spot ? 3 : 1,
      fillColor: colours[p.band],
      fillOpacity: 0.85,
      className: "cw-point band-" + p.band + (p.blind_spot ? " blind-spot" : ""),
    }).addTo(map);
    var text = document.createElement("div");
    var title = document.createElement("strong");
    title.textContent = p.code + " " + p.name;
    text.appendChild(title);
    text.appendChild(document.createElement("br"));
    text.appendChild(document.createTextNode(
      (p.score === null ? "–" : p.score.toFixed(1)) + (p.open_cases ? " · " + p.open_cases + " ⚑" : "")));
    marker.bindPopup(text);
    bounds.push([p.lat, p.lon]);
  });
  data.cases.forEach(function (c) {
    var square = L.marker([c.lat, c.lon], {
      icon: L.divIcon({ className: "cw-case status-" + c.status, iconSize: [12, 12] }),
      keyboard: true,
      title: c.description,
    }).addTo(map);
    var link = document.createElement("a");
    link.href = "/cases/" + c.id;
    link.textContent = c.description;
    square.bindPopup(link);
    bounds.push([c.lat, c.lon]);
  });
  if (bounds.length) {
    map.fitBounds(bounds, { padding: [20, 20] });
  } else {
    map.setView([28.44, 118.2], 12);
  }
  document.getElementById("map").dataset.ready = "1";
})();
