// Accessibility basics of the page as it is: returns a list of problems (empty when fine).
// Run by tests/browser/audit.py with page.evaluate(); the focus check lives there.
() => {
  const structure = () => {
    const problems = [];
    const name = (el) => el.outerHTML.slice(0, 120);
    const h1s = [...document.querySelectorAll("h1")];
    if (h1s.length !== 1) problems.push(`${h1s.length} h1 elements`);
    for (const el of document.querySelectorAll("input, select, textarea")) {
      if (el.type === "hidden" || el.hidden || el.closest("#card-element")) continue;
      const labelled = el.labels.length || el.getAttribute("aria-label") ||
        el.getAttribute("aria-labelledby");
      if (!labelled) problems.push(`no label: ${name(el)}`);
    }
    for (const el of document.querySelectorAll("[aria-describedby], [aria-labelledby]")) {
      const ids = `${el.getAttribute("aria-describedby") || ""} ${el.getAttribute("aria-labelledby") || ""}`;
      for (const id of ids.split(/\s+/).filter(Boolean)) {
        if (!document.getElementById(id)) problems.push(`missing #${id} for ${name(el)}`);
      }
    }
    for (const el of document.querySelectorAll("[aria-invalid=true]")) {
      if (!el.getAttribute("aria-describedby")) problems.push(`error not tied: ${name(el)}`);
    }
    for (const el of document.querySelectorAll("img")) {
      if (!el.hasAttribute("alt")) problems.push(`img without alt: ${name(el)}`);
    }
    for (const el of document.querySelectorAll("a")) {
      const href = el.getAttribute("href");
      if (!href || href === "#" || href.startsWith("javascript:")) problems.push(`link as button: ${name(el)}`);
    }
    for (const el of document.querySelectorAll("[onclick], div[role=button], span[role=button]")) {
      problems.push(`clickable non-button: ${name(el)}`);
    }
    for (const el of document.querySelectorAll("button")) {
      if (!el.textContent.trim() && !el.getAttribute("aria-label")) problems.push(`unnamed button: ${name(el)}`);
    }
    for (const el of document.querySelectorAll("[tabindex]")) {
      if (el.tabIndex > 0) problems.push(`positive tabindex: ${name(el)}`);
    }
    const ids = [...document.querySelectorAll("[id]")].map((el) => el.id);
    for (const id of new Set(ids)) if (ids.filter((x) => x === id).length > 1) problems.push(`duplicate id ${id}`);
    return problems;
  };
  const contrast = () => {
    const parse = (value) => {
      let m = value.match(/^rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)$/);
      if (m) return [+m[1], +m[2], +m[3], m[4] === undefined ? 1 : +m[4]];
      m = value.match(/^color\(srgb ([\d.e-]+) ([\d.e-]+) ([\d.e-]+)(?: \/ ([\d.]+))?\)$/);
      if (m) return [m[1] * 255, m[2] * 255, m[3] * 255, m[4] === undefined ? 1 : +m[4]];
      return null;
    };
    const over = (top, bottom) => {
      const a = top[3];
      return [0, 1, 2].map((i) => top[i] * a + bottom[i] * (1 - a)).concat(1);
    };
    const background = (el) => {
      const layers = [];
      for (let node = el; node; node = node.parentElement) {
        const style = getComputedStyle(node);
        const color = parse(style.backgroundColor);
        if (color && color[3] > 0) layers.push(color);
        if (color && color[3] === 1) break;
      }
      let result = [255, 255, 255, 1];
      for (const layer of layers.reverse()) result = over(layer, result);
      return result;
    };
    const luminance = (c) => {
      const [r, g, b] = c.slice(0, 3).map((v) => {
        v /= 255;
        return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const ratio = (a, b) => {
      const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
      return (hi + 0.05) / (lo + 0.05);
    };
    const problems = [];
    for (const el of document.body.querySelectorAll("*")) {
      const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
      if (!own || !el.getClientRects().length || el.closest(".visually-hidden, .skip-link")) continue;
      const style = getComputedStyle(el);
      if (style.visibility === "hidden" || +style.opacity === 0) continue;
      const bg = background(el);
      const fg = over(parse(style.color), bg);
      const size = parseFloat(style.fontSize);
      const large = size >= 24 || (size >= 18.66 && +style.fontWeight >= 700);
      const needed = large ? 3 : 4.5;
      const got = ratio(fg, bg);
      if (got < needed) {
        problems.push(`${got.toFixed(2)}:1 for "${el.textContent.trim().slice(0, 40)}" (${style.color} on rgb(${bg.slice(0, 3).map(Math.round)}))`);
      }
    }
    return problems;
  };
  return structure().concat(contrast());
}
