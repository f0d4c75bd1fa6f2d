// Small DOM helpers shared by the page's parts.
export const $ = (selector) => document.querySelector(selector);

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

export function showError(selector, message) {
  const box = $(selector);
  box.textContent = message;
  box.hidden = false;
}

export function clearError(selector) {
  const box = $(selector);
  box.textContent = "";
  box.hidden = true;
}
