// Recently used colours as swatches; the newest first.

export class Palette {
  constructor(container, onChoose, size = 10) {
    this.container = container;
    this.onChoose = onChoose;
    this.size = size;
    this.colours = [];
  }

  use(hex) {
    this.colours = [hex, ...this.colours.filter((c) => c !== hex)].slice(0, this.size);
    this.render();
  }

  render() {
    this.container.replaceChildren(...this.colours.map((hex) => {
      const swatch = document.createElement("button");
      swatch.type = "button";
      swatch.title = hex;
      swatch.dataset.colour = hex;
      swatch.style.backgroundColor = hex;
      swatch.addEventListener("click", () => this.onChoose(hex));
      return swatch;
    }));
  }
}
