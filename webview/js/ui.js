// ui.js - small DOM helpers shared by the views.
import { showTime } from './tree.js';

// el('div', {class: 'x'}, child, 'text', ...)
export function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false)
      continue;
    if (k.startsWith('on'))
      e.addEventListener(k.slice(2), v);
    else
      e.setAttribute(k, v === true ? '' : v);
  }
  if (tag === 'video' && 'muted' in attrs)
    e.muted = true;
  e.append(...kids.filter((k) => k !== null && k !== undefined));
  return e;
}

export function button(label, onclick, attrs = {}) {
  return el('button', { type: 'button', onclick, 'aria-label': attrs.title || label, ...attrs }, label);
}

// The camera clock of a frame (epoch seconds) in the store's time.
export function clockText(t) {
  return showTime(t);
}
